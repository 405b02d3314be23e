// Adds the Redis cluster's pieces that stand alone (RedisEmitter, redis_ping) to chat._core.
#ifndef CHAT_PYTHON_REDIS_BINDINGS_HPP
#define CHAT_PYTHON_REDIS_BINDINGS_HPP

#include <pybind11/pybind11.h>

void bind_redis(pybind11::module_& module);

#endif  // CHAT_PYTHON_REDIS_BINDINGS_HPP

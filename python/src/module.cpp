// chat._core: the C++ server and the message store under the chat package (internal: use
// chat.SocketIO and chat.store).
#include <chat/version.hpp>

#include <pybind11/pybind11.h>

#include "redis_bindings.hpp"
#include "server_bindings.hpp"
#include "store_bindings.hpp"
#include "workers_bindings.hpp"

PYBIND11_MODULE(_core, module) {
  module.doc() = "The C++ Socket.IO server under the chat package (internal: use chat.SocketIO).";
  module.attr("__version__") = chat::version;
  chat::python::bind_server(module);
  bind_store(module);
  bind_redis(module);
  chat::python::bind_workers(module);
}

// Adds the message store (SqliteStore, User, Room, Message, MessagePage, StoreError) to chat._core.
#ifndef CHAT_PYTHON_STORE_BINDINGS_HPP
#define CHAT_PYTHON_STORE_BINDINGS_HPP

#include <pybind11/pybind11.h>

void bind_store(pybind11::module_& module);

#endif  // CHAT_PYTHON_STORE_BINDINGS_HPP

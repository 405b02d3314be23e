// Adds the server to chat._core: Server, Options, LocalConnection, and the DisconnectReason and
// PacketType enums.
#ifndef CHAT_PYTHON_SERVER_BINDINGS_HPP
#define CHAT_PYTHON_SERVER_BINDINGS_HPP

#include <pybind11/pybind11.h>

namespace chat::python {

void bind_server(pybind11::module_& module);

}  // namespace chat::python

#endif  // CHAT_PYTHON_SERVER_BINDINGS_HPP

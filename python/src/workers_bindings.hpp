// Adds WorkerProcesses to chat._core: socketio.run(app, workers=N)'s supervisor.
#ifndef CHAT_PYTHON_WORKERS_BINDINGS_HPP
#define CHAT_PYTHON_WORKERS_BINDINGS_HPP

#include <pybind11/pybind11.h>

namespace chat::python {

void bind_workers(pybind11::module_& module);

}  // namespace chat::python

#endif  // CHAT_PYTHON_WORKERS_BINDINGS_HPP

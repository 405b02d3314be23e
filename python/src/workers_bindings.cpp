// chat._core.WorkerProcesses: the supervisor of socketio.run(app, workers=N). It runs without
// the GIL; it takes the GIL only to fork (through os.fork, so that the interpreter in the new
// process is consistent: its locks reset, its at-fork hooks run) and, in the new worker
// process, to call the package's worker body, whose return value is the worker's exit status.
#include "workers_bindings.hpp"

#include <chat/worker_processes.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>

namespace chat::python {

namespace py = pybind11;

namespace {

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

}  // namespace

void bind_workers(py::module_& module) {
  py::class_<WorkerProcesses>(module, "WorkerProcesses",
                              "chat::WorkerProcesses: worker processes behind one port, each session's requests "
                              "routed to its worker.")
      .def(py::init([](std::size_t workers, const Options& options, double restart_delay, double stop_timeout) {
             auto supervisor = std::make_unique<WorkerProcesses>(workers, options);
             supervisor->restart_delay(milliseconds(restart_delay)).stop_timeout(milliseconds(stop_timeout));
             return supervisor;
           }),
           py::arg("workers"), py::arg("options"), py::arg("restart_delay") = 1.0, py::arg("stop_timeout") = 10.0)
      .def("listen", &WorkerProcesses::listen, py::arg("host"), py::arg("port"), "Binds; returns the bound port.")
      .def(
          "run",
          [](WorkerProcesses& supervisor, const py::object& body) {
            supervisor.fork_with([]() -> pid_t {
              py::gil_scoped_acquire gil;
              try {
                return py::module_::import("os").attr("fork")().cast<pid_t>();
              } catch (py::error_already_set& error) {
                error.restore();
                PyErr_Print();
                errno = EAGAIN;
                return -1;
              }
            });
            py::gil_scoped_release release;
            // `body` outlives run(), and is touched only with the GIL held.
            supervisor.run([&body](const WorkerSlot& slot) -> int {
              py::gil_scoped_acquire gil;
              try {
                return body(slot.index(), slot.count(), slot.channel()).cast<int>();
              } catch (py::error_already_set& error) {
                error.restore();
                PyErr_Print();
                return 1;
              }
            });
          },
          py::arg("body"),
          "Forks the workers, each calling body(index, count, channel) -> exit status, and supervises them "
          "until SIGINT, SIGTERM or stop().")
      .def("stop", &WorkerProcesses::stop, "Makes run() stop the workers and return. Any thread.")
      .def_property_readonly("restarts", &WorkerProcesses::restarts);
}

}  // namespace chat::python

// chat._core.RedisEmitter and redis_ping: the emitter-only SocketIO(message_queue=...) of a
// process that is not a server, and the check that a message queue answers at start.
#include "redis_bindings.hpp"

#include <chat/redis/adapter.hpp>
#include <chat/redis/emitter.hpp>

#include <pybind11/stl.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "json_convert.hpp"

namespace py = pybind11;

namespace {

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

/// The emitter's selection of sockets: `to` rooms (all when empty) minus `skip`.
chat::redis::EmitterOperator select(chat::redis::Emitter& emitter, const std::string& nsp,
                                    const std::vector<std::string>& to, const std::vector<std::string>& skip) {
  auto selection = emitter.of(nsp);
  for (const auto& room : to) selection = selection.to(room);
  for (const auto& room : skip) selection = selection.except(room);
  return selection;
}

}  // namespace

void bind_redis(py::module_& module) {
  module.def(
      "redis_ping",
      [](const std::string& url, double timeout) {
        py::gil_scoped_release release;
        chat::redis::ping(url, milliseconds(timeout));
      },
      py::arg("url"), py::arg("timeout"),
      "Connects to the Redis at url and waits for its PONG; RuntimeError saying why when it does not come.");

  // Problems go to stderr, from the emitter's own thread: taking the GIL there could wait on a
  // Python thread that waits for the emitter (its destructor flushes).
  py::class_<chat::redis::Emitter>(module, "RedisEmitter")
      .def(py::init([](const std::string& url, const std::string& key) {
             return std::make_unique<chat::redis::Emitter>(chat::redis::EmitterOptions().url(url).key(key));
           }),
           py::arg("url"), py::arg("key"))
      .def(
          "emit",
          [](chat::redis::Emitter& emitter, const std::string& nsp, const std::string& event, const py::handle& args,
             const std::vector<std::string>& to, const std::vector<std::string>& skip, bool compress) {
            chat::json data = chat::python::args_to_json(args);
            data.insert(data.begin(), event);
            select(emitter, nsp, to, skip).compress(compress).emit_array(chat::Args(std::move(data)));
          },
          py::arg("namespace"), py::arg("event"), py::arg("args"), py::arg("to"), py::arg("skip"),
          py::arg("compress") = true)
      .def(
          "sockets_join",
          [](chat::redis::Emitter& emitter, const std::string& nsp, const std::vector<std::string>& to,
             std::vector<std::string> rooms) { select(emitter, nsp, to, {}).sockets_join(std::move(rooms)); },
          py::arg("namespace"), py::arg("to"), py::arg("rooms"))
      .def(
          "sockets_leave",
          [](chat::redis::Emitter& emitter, const std::string& nsp, const std::vector<std::string>& to,
             std::vector<std::string> rooms) { select(emitter, nsp, to, {}).sockets_leave(std::move(rooms)); },
          py::arg("namespace"), py::arg("to"), py::arg("rooms"))
      .def(
          "disconnect_sockets",
          [](chat::redis::Emitter& emitter, const std::string& nsp, const std::vector<std::string>& to, bool close) {
            select(emitter, nsp, to, {}).disconnect_sockets(close);
          },
          py::arg("namespace"), py::arg("to"), py::arg("close"))
      .def(
          "server_side_emit",
          [](chat::redis::Emitter& emitter, const std::string& nsp, const std::string& event, const py::handle& args) {
            chat::json data = chat::python::args_to_json(args);
            data.insert(data.begin(), event);
            emitter.of(nsp).server_side_emit_array(chat::Args(std::move(data)));
          },
          py::arg("namespace"), py::arg("event"), py::arg("args"))
      .def(
          "flush", [](chat::redis::Emitter& emitter, double timeout) { return emitter.flush(milliseconds(timeout)); },
          py::arg("timeout"), py::call_guard<py::gil_scoped_release>())
      .def("connected", &chat::redis::Emitter::connected);
}

// chat._core's message store: chat::store::SqliteStore for Python (re-exported by chat.store).
// Every call releases the GIL while SQLite works, so handlers on other threads keep running;
// the store's own mutex serialises the calls.
#include "store_bindings.hpp"

#include <chat/store/sqlite_store.hpp>

#include <pybind11/stl.h>

namespace py = pybind11;
using namespace chat::store;

namespace {

const char* kind_name(RoomKind kind) { return kind == RoomKind::private_room ? "private" : "public"; }

std::string user_repr(const User& user) {
  return "User(id=" + std::to_string(user.id) + ", name=" + py::repr(py::str(user.name)).cast<std::string>() + ")";
}

}  // namespace

void bind_store(py::module_& module) {
  // StoreError(message) with .code, one of StoreErrc's names ("name_taken", "read_only", ...).
  static py::exception<StoreError> store_error(module, "StoreError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr raised) {
    try {
      if (raised) std::rethrow_exception(raised);
    } catch (const StoreError& e) {
      py::object error = py::reinterpret_borrow<py::object>(store_error.ptr())(e.what());
      error.attr("code") = to_string(e.code());
      PyErr_SetObject(store_error.ptr(), error.ptr());
    }
  });

  py::class_<User>(module, "User")
      .def(py::init([](std::int64_t id, std::string name) { return User{id, std::move(name)}; }),
           py::arg("id"), py::arg("name"))
      .def_readonly("id", &User::id)
      .def_readonly("name", &User::name)
      .def("__eq__", [](const User& a, const User& b) { return a.id == b.id && a.name == b.name; })
      .def("__repr__", &user_repr);

  py::class_<Room>(module, "Room")
      .def_readonly("id", &Room::id)
      .def_readonly("name", &Room::name)
      .def_property_readonly("kind", [](const Room& room) { return kind_name(room.kind); })
      .def_readonly("members", &Room::members)
      .def_readonly("created_at", &Room::created_at)
      .def_readonly("last_activity", &Room::last_activity)
      .def("__repr__", [](const Room& room) {
        return "Room(id=" + py::repr(py::str(room.id)).cast<std::string>() + ", kind='" + kind_name(room.kind) + "')";
      });

  py::class_<Message>(module, "Message")
      .def_readonly("id", &Message::id)
      .def_readonly("room", &Message::room)
      .def_readonly("author", &Message::author)
      .def_readonly("text", &Message::text)
      .def_readonly("time", &Message::time)
      .def("__repr__", [](const Message& message) {
        return "Message(id=" + std::to_string(message.id) + ", room=" + py::repr(py::str(message.room)).cast<std::string>() +
               ", author=" + user_repr(message.author) + ")";
      });

  py::class_<MessagePage>(module, "MessagePage")
      .def_readonly("messages", &MessagePage::messages)
      .def_readonly("has_more", &MessagePage::has_more);

  using release = py::call_guard<py::gil_scoped_release>;
  py::class_<SqliteStore>(module, "SqliteStore")
      .def(py::init([](const py::object& path, double busy_timeout) {
             // Accept str and os.PathLike, as open() does; the timeout in seconds, as sqlite3.connect's.
             const auto fspath = py::module_::import("os").attr("fspath")(path).cast<std::string>();
             py::gil_scoped_release unlocked;
             return std::make_unique<SqliteStore>(fspath, std::chrono::milliseconds(std::int64_t(busy_timeout * 1000)));
           }),
           py::arg("path"), py::arg("busy_timeout") = 5.0)
      .def_property_readonly("path", &SqliteStore::path)
      .def_property_readonly_static("schema_version", [](const py::object&) { return SqliteStore::schema_version; })
      .def("create_user", &SqliteStore::create_user, py::arg("name"), py::arg("secret"), release())
      .def("find_user", &SqliteStore::find_user, py::arg("id"), release())
      .def("find_user_by_name", &SqliteStore::find_user_by_name, py::arg("name"), release())
      .def("find_user_by_secret", &SqliteStore::find_user_by_secret, py::arg("secret"), release())
      .def("rename_user", &SqliteStore::rename_user, py::arg("id"), py::arg("name"), release())
      .def("open_public_room", &SqliteStore::open_public_room, py::arg("id"), release())
      .def("open_private_room", &SqliteStore::open_private_room, py::arg("user_a"), py::arg("user_b"), release())
      .def("find_room", &SqliteStore::find_room, py::arg("id"), release())
      .def("public_rooms", &SqliteStore::public_rooms, release())
      .def("private_rooms_of", &SqliteStore::private_rooms_of, py::arg("user"), release())
      .def("is_member", &SqliteStore::is_member, py::arg("room"), py::arg("user"), release())
      .def("append", &SqliteStore::append, py::arg("room"), py::arg("author"), py::arg("text"), py::arg("time"), release())
      .def("latest", &SqliteStore::latest, py::arg("room"), py::arg("limit"), release())
      .def("before", &SqliteStore::before, py::arg("room"), py::arg("before_id"), py::arg("limit"), release())
      .def("after", &SqliteStore::after, py::arg("room"), py::arg("after_id"), py::arg("limit"), release());
}

// Python values and chat's JSON: payloads cross the boundary here (bytes as binary values).
#ifndef CHAT_PYTHON_JSON_CONVERT_HPP
#define CHAT_PYTHON_JSON_CONVERT_HPP

#include <chat/args.hpp>

#include <pybind11/pybind11.h>

#include <cstdint>  // int64_t, uint64_t
#include <string>   // string
#include <utility>  // pair
#include <vector>   // vector

namespace chat::python {

namespace py = pybind11;

/// How deep a payload may nest: the conversions recurse, and a handler's data must not exhaust
/// the stack.
constexpr int max_depth = 64;

/// A Python value as JSON: None, bool, int, float, str, bytes-like (binary), dict (keys str, or
/// int/float/bool/None as JSON turns them into strings), list or tuple. Raises TypeError for
/// anything else and ValueError beyond max_depth.
inline json to_json(py::handle value, int depth = 0) {
  if (depth > max_depth) throw py::value_error("payload nested more than 64 levels deep");
  if (value.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>();
  if (py::isinstance<py::int_>(value)) {
    try {
      return value.cast<std::int64_t>();
    } catch (const py::cast_error&) {
      return value.cast<double>();
    }
  }
  if (py::isinstance<py::float_>(value)) return value.cast<double>();
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::bytes>(value) || py::isinstance<py::bytearray>(value) || py::isinstance<py::memoryview>(value)) {
    const std::string bytes = py::bytes(py::reinterpret_borrow<py::object>(value)).cast<std::string>();
    return chat::binary(bytes);
  }
  if (py::isinstance<py::dict>(value)) {
    json object = json::object();
    for (const auto& item : py::reinterpret_borrow<py::dict>(value)) {
      std::string key;
      if (py::isinstance<py::str>(item.first)) key = item.first.cast<std::string>();
      else if (item.first.is_none()) key = "null";
      else if (py::isinstance<py::bool_>(item.first)) key = item.first.cast<bool>() ? "true" : "false";
      else if (py::isinstance<py::int_>(item.first) || py::isinstance<py::float_>(item.first)) key = py::str(item.first).cast<std::string>();
      else throw py::type_error("keys must be str, int, float, bool or None, not " + std::string(py::str(item.first.get_type().attr("__name__"))));
      object[key] = to_json(item.second, depth + 1);
    }
    return object;
  }
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    json array = json::array();
    for (const auto& element : value) array.push_back(to_json(element, depth + 1));
    return array;
  }
  throw py::type_error("Object of type " + std::string(py::str(value.get_type().attr("__name__"))) + " is not JSON serializable");
}

/// JSON as a Python value (binary values as bytes).
inline py::object from_json(const json& value) {
  switch (value.type()) {
    case json::value_t::null: return py::none();
    case json::value_t::boolean: return py::bool_(value.get<bool>());
    case json::value_t::number_integer: return py::int_(value.get<std::int64_t>());
    case json::value_t::number_unsigned: return py::int_(value.get<std::uint64_t>());
    case json::value_t::number_float: return py::float_(value.get<double>());
    case json::value_t::string: return py::str(value.get_ref<const std::string&>());
    case json::value_t::binary: return py::bytes(chat::bytes_of(value));
    case json::value_t::array: {
      py::list list;
      for (const auto& element : value) list.append(from_json(element));
      return std::move(list);
    }
    case json::value_t::object: {
      py::dict dict;
      for (const auto& item : value.items()) dict[py::str(item.key())] = from_json(item.value());
      return std::move(dict);
    }
    default: return py::none();
  }
}

/// A list or tuple of arguments as one JSON array.
inline json args_to_json(const py::handle& args) {
  json array = to_json(args);
  if (!array.is_array()) throw py::type_error("arguments must be a list or tuple");
  return array;
}

/// Name/value pairs (headers, query) as a list of tuples.
inline py::list pairs_to_list(const std::vector<std::pair<std::string, std::string>>& pairs) {
  py::list list;
  for (const auto& [key, value] : pairs) list.append(py::make_tuple(key, value));
  return list;
}

}  // namespace chat::python

#endif  // CHAT_PYTHON_JSON_CONVERT_HPP

// Forward declarations of chat's classes and its vocabulary types: ids, rooms and the signatures
// of hooks. Including it costs no template instantiation and no Asio.
#ifndef CHAT_FWD_HPP
#define CHAT_FWD_HPP

#include <cstdint>       // uint64_t
#include <functional>    // function
#include <memory>        // unique_ptr
#include <string>        // string
#include <string_view>   // string_view
#include <system_error>  // error_code
#include <vector>        // vector

#include <nlohmann/json_fwd.hpp>

namespace chat {

using json = nlohmann::json;

class Adapter;
class Args;
class BroadcastOperator;
class ConnectResult;
class Event;
class InMemoryAdapter;
class LocalClient;
class LocalSockets;
class Namespace;
class Next;
class Options;
class OutgoingPacket;
class Parser;
class Socket;
struct Handshake;
struct HttpRequest;
enum class DisconnectReason;
template <class Config>
class Server;
template <class Config>
class ShardedServer;

/// A socket's id, also the name of the room only it is in.
using SocketId = std::string;
/// A room's name.
using Room = std::string;

/// Handles an event a client sent (Namespace::on).
using EventHandler = std::function<void(Socket& socket, Event& event)>;
/// Sees an event sent to a socket, by name and arguments (Socket::on_any_outgoing).
using OutgoingListener = std::function<void(Socket& socket, const std::string& event, const Args& args)>;
/// Names a listener added by Socket::on_any and its kin, to remove it (Node compares functions;
/// std::function cannot be compared).
using ListenerId = std::uint64_t;
/// Decides whether a namespace a client names, which does not exist yet, is made for it as a
/// child of a parent namespace (Server::of(matcher), Node's `io.of(fn)`); `auth` is its CONNECT
/// packet's auth object.
using NamespaceMatcher = std::function<bool(const std::string& name, const json& auth)>;
/// Decides on a client joining a namespace (Namespace::on_connect).
using ConnectHandler = std::function<ConnectResult(Socket& socket, const json& auth)>;
/// Learns that a socket left its namespace, and why (Namespace::on_disconnect).
using DisconnectHandler = std::function<void(Socket& socket, DisconnectReason reason)>;
/// Runs before the connect hook; calls `next()` to go on or `next.fail(...)` to refuse
/// (Namespace::use, Node's `namespace.use`).
using ConnectMiddleware = std::function<void(Socket& socket, const json& auth, Next next)>;
/// Runs before an event's handler; calls `next()` to go on or `next.fail(...)` to drop the
/// event (Socket::use, Node's `socket.use`).
using PacketMiddleware = std::function<void(Socket& socket, Event& event, Next next)>;
/// Receives exceptions thrown by hooks and other errors worth a log line; `socket` is the
/// socket concerned, or nullptr (Server::on_error).
using ErrorHandler = std::function<void(Socket* socket, std::string_view message)>;
/// Makes the adapter of each namespace (Server::set_adapter_factory).
using AdapterFactory = std::function<std::unique_ptr<Adapter>(LocalSockets& sockets)>;
/// Gets a client's acknowledgement, or an error (errc::ack_timeout, errc::socket_disconnected)
/// with empty arguments.
using AckCallback = std::function<void(std::error_code error, Args args)>;
/// Gets every answer of a broadcast's `emit_with_ack` or of `server_side_emit_with_ack`, or
/// errc::ack_timeout with the answers that came in time.
using AcksCallback = std::function<void(std::error_code error, std::vector<Args> answers)>;
/// Handles an event another server sent with `server_side_emit`: its name and arguments, and
/// `reply` to answer the sender when it asked for answers (once).
using ServerSideHandler =
    std::function<void(const std::string& event, const Args& args, const std::function<void(Args)>& reply)>;

}  // namespace chat

#endif  // CHAT_FWD_HPP

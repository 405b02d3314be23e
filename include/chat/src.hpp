// Separate compilation: with CHAT_SEPARATE_COMPILATION defined for the whole program, chat's
// headers only declare, and the one source file that includes this header compiles every body
// (Asio's ASIO_SEPARATE_COMPILATION model):
//
//   // chat.cpp, compiled once
//   #include <chat/src.hpp>
//
// The files that register hooks then compile without Asio, websocketpp or chat's bodies.
// (A Server<transport::TlsConfig> is compiled where chat/transport/websocketpp/tls.hpp is
// included.)
#ifndef CHAT_SRC_HPP
#define CHAT_SRC_HPP

#if !defined(CHAT_SEPARATE_COMPILATION)
#error "chat/src.hpp compiles chat's bodies for separate compilation: define CHAT_SEPARATE_COMPILATION for the whole program (or include the headers alone: they are header-only by default)"
#endif

#include "impl/adapter.hpp"
#include "impl/broadcast.hpp"
#include "impl/client.hpp"
#include "impl/core.hpp"
#include "impl/local_client.hpp"
#include "impl/namespace.hpp"
#include "impl/msgpack_parser.hpp"
#include "impl/parser.hpp"
#include "impl/server.hpp"
#include "impl/sharded_server.hpp"
#include "impl/socket.hpp"

template class nlohmann::basic_json<>;  // declared extern in chat/args.hpp

namespace chat {
template class Server<transport::PlainConfig>;
template class ShardedServer<transport::PlainConfig>;
}  // namespace chat

#endif  // CHAT_SRC_HPP

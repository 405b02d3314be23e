// chat: a header-only Socket.IO v5 server. Include this one header for everything but TLS
// (chat/transport/websocketpp/tls.hpp) and the message store (chat/store/sqlite_store.hpp).
#ifndef CHAT_CHAT_HPP
#define CHAT_CHAT_HPP

#include "adapter.hpp"         // IWYU pragma: export
#include "args.hpp"            // IWYU pragma: export
#include "broadcast.hpp"       // IWYU pragma: export
#include "errors.hpp"          // IWYU pragma: export
#include "fwd.hpp"             // IWYU pragma: export
#include "handshake.hpp"       // IWYU pragma: export
#include "http.hpp"            // IWYU pragma: export
#include "local_client.hpp"    // IWYU pragma: export
#include "middleware.hpp"      // IWYU pragma: export
#include "namespace.hpp"       // IWYU pragma: export
#include "options.hpp"         // IWYU pragma: export
#include "msgpack_parser.hpp"  // IWYU pragma: export
#include "parser.hpp"          // IWYU pragma: export
#include "reason.hpp"          // IWYU pragma: export
#include "server.hpp"          // IWYU pragma: export
#include "sharded_server.hpp"  // IWYU pragma: export
#include "socket.hpp"          // IWYU pragma: export
#include "version.hpp"         // IWYU pragma: export

#endif  // CHAT_CHAT_HPP

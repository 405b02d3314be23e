// The TLS transport's header compiles on its own, and twice in one file.
#include <chat/transport/websocketpp/tls.hpp>
#include <chat/transport/websocketpp/tls.hpp>

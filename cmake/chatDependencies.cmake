# Finds chat's dependencies (zlib among them) and defines chat::asio and chat::websocketpp, both for chat's own
# build and for chatConfig.cmake in an install tree.
include(CMakeFindDependencyMacro)

# The facts setup.py reads too (definitions, the newest Asio websocketpp builds with).
file(STRINGS "${CMAKE_CURRENT_LIST_DIR}/chatBuildFacts.txt" chat_facts REGEX "^[a-z-]+ ")
foreach(chat_fact IN LISTS chat_facts)
  string(REGEX MATCH "^([a-z-]+) (.*)$" chat_fact_match "${chat_fact}")
  set("chat_fact_${CMAKE_MATCH_1}" "${CMAKE_MATCH_2}")
endforeach()

find_dependency(Threads)
find_dependency(nlohmann_json 3.9)
# HTTP compression of polling responses and permessage-deflate (Debian: zlib1g-dev).
find_dependency(ZLIB)
# Optional: only chat::store (the SQLite message store) needs it.
find_package(SQLite3 QUIET)
# Optional: only chat::tls (the TLS transport, chat/transport/websocketpp/tls.hpp) needs it.
find_package(OpenSSL QUIET)
# Optional: only chat::redis (the Redis cluster adapter and emitter, chat/redis/) needs it: its
# RESP reader and command formatter. Debian's libhiredis-dev ships no CMake target, so it is
# found by its header and library.
if(NOT TARGET chat::hiredis)
  find_path(CHAT_HIREDIS_INCLUDE_DIR NAMES hiredis/hiredis.h)
  find_library(CHAT_HIREDIS_LIBRARY NAMES hiredis)
  if(CHAT_HIREDIS_INCLUDE_DIR AND CHAT_HIREDIS_LIBRARY)
    add_library(chat::hiredis UNKNOWN IMPORTED)
    set_target_properties(chat::hiredis PROPERTIES
      IMPORTED_LOCATION "${CHAT_HIREDIS_LIBRARY}"
      INTERFACE_INCLUDE_DIRECTORIES "${CHAT_HIREDIS_INCLUDE_DIR}")
  endif()
endif()

if(NOT TARGET chat::asio)
  find_path(CHAT_ASIO_INCLUDE_DIR NAMES asio.hpp asio/version.hpp)
  if(NOT CHAT_ASIO_INCLUDE_DIR)
    message(FATAL_ERROR "chat: standalone Asio not found (Debian: apt-get install libasio-dev)")
  endif()
  file(STRINGS "${CHAT_ASIO_INCLUDE_DIR}/asio/version.hpp" chat_asio_version_line REGEX "#define ASIO_VERSION [0-9]+")
  string(REGEX MATCH "[0-9]+" chat_asio_version "${chat_asio_version_line}")
  # Why there is a bound: chatBuildFacts.txt.
  if(chat_asio_version GREATER_EQUAL chat_fact_asio-version-below)
    math(EXPR chat_asio_below_major "${chat_fact_asio-version-below} / 100000")
    math(EXPR chat_asio_below_minor "${chat_fact_asio-version-below} / 100 % 1000")
    message(FATAL_ERROR "chat: Asio ${chat_asio_version} is too new for websocketpp 0.8.2; "
                        "use Asio below ${chat_asio_below_major}.${chat_asio_below_minor}")
  endif()
  add_library(chat::asio INTERFACE IMPORTED)
  set_target_properties(chat::asio PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${CHAT_ASIO_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "${chat_fact_asio-definition}")
endif()

if(NOT TARGET chat::websocketpp)
  find_path(CHAT_WEBSOCKETPP_INCLUDE_DIR NAMES websocketpp/version.hpp)
  if(NOT CHAT_WEBSOCKETPP_INCLUDE_DIR)
    message(FATAL_ERROR "chat: websocketpp not found (Debian: apt-get install libwebsocketpp-dev)")
  endif()
  add_library(chat::websocketpp INTERFACE IMPORTED)
  set_target_properties(chat::websocketpp PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${CHAT_WEBSOCKETPP_INCLUDE_DIR}"
    INTERFACE_COMPILE_DEFINITIONS "${chat_fact_websocketpp-definition}")
endif()

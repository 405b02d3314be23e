// How chat's function bodies are compiled: in every translation unit that includes a header
// (header-only, the default), or once, in the one that includes chat/src.hpp, when the program
// defines CHAT_SEPARATE_COMPILATION (Asio's ASIO_SEPARATE_COMPILATION model).
#ifndef CHAT_DETAIL_CONFIG_HPP
#define CHAT_DETAIL_CONFIG_HPP

#if defined(CHAT_SEPARATE_COMPILATION)
#define CHAT_DECL
#else
#define CHAT_DECL inline
#endif

#endif  // CHAT_DETAIL_CONFIG_HPP

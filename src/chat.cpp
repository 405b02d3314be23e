// chat's bodies, compiled once: the chat::compiled library (see README, "Compiled once instead of
// header-only") and the Python extension. Every file that uses them is built with
// CHAT_SEPARATE_COMPILATION and includes chat's declarations only.
#include <chat/src.hpp>

// chat's bodies, compiled once for the program (CHAT_SEPARATE_COMPILATION).
#include <chat/src.hpp>

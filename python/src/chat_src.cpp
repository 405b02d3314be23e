// chat's bodies, compiled once for the extension: its other files are built with
// CHAT_SEPARATE_COMPILATION and include chat's declarations only.
#include <chat/src.hpp>

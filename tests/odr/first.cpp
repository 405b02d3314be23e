// Two translation units include the whole library: a function defined in a header without
// `inline` would be defined twice and fail to link.
#include <chat/chat.hpp>

int second_unit();

int main() {
  chat::Options options;
  chat::Server<> server(options.ping_interval(std::chrono::seconds(1)));
  return second_unit() == 6 && server.options().ping_interval().count() == 1000 ? 0 : 1;
}

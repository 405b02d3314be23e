// Fuzzes what a server reads from the Redis channels of a cluster (chat/redis/detail/notepack.hpp,
// wire.hpp): anyone may publish there. Checks:
//   - nothing but WireError escapes a decoder (no json type_error, no bad_alloc from a forged
//     length, no crash);
//   - a notepack value that decodes re-encodes to bytes that decode to the same value;
//   - a broadcast, request or response that decodes re-encodes to one that decodes the same.
#include <chat/redis/detail/wire.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

namespace {

namespace wire = chat::redis::detail;

std::string text(const chat::json& value) { return value.dump(-1, ' ', false, chat::json::error_handler_t::replace); }

template <class Decode>
void only_wire_errors(std::string_view input, const char* what, Decode decode) {
  try {
    decode();
  } catch (const wire::WireError&) {
  } catch (const std::exception& error) {
    FUZZ_CHECK(false, std::string(what) + " threw " + error.what() + " on " + fuzz::printable(input));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  only_wire_errors(input, "from_notepack", [&] {
    const chat::json value = wire::from_notepack(input);
    const chat::json again = wire::from_notepack(wire::to_notepack(value));
    FUZZ_CHECK(text(again) == text(value), fuzz::printable(input) + " read as " + text(value) + ", then " + text(again));
  });
  only_wire_errors(input, "decode_broadcast", [&] {
    const wire::BroadcastMessage message = wire::decode_broadcast(input);
    const wire::BroadcastMessage again = wire::decode_broadcast(wire::encode_broadcast(message));
    const std::string what = fuzz::printable(input);
    FUZZ_CHECK(again.uid == message.uid && again.packet.nsp == message.packet.nsp, what);
    FUZZ_CHECK(text(again.packet.data) == text(message.packet.data), what);
    FUZZ_CHECK(again.rooms == message.rooms && again.except == message.except, what);
  });
  only_wire_errors(input, "decode_request", [&] {
    const wire::Request request = wire::decode_request(input);
    // A broadcast with acks is written only with its timeout (a server never sends one without).
    if (const auto* broadcast = std::get_if<wire::BroadcastRequest>(&request); broadcast && !broadcast->message.flags.timeout_ms)
      return;
    const wire::Request again = wire::decode_request(wire::encode_request(request));
    FUZZ_CHECK(wire::type_of(again) == wire::type_of(request), fuzz::printable(input));
  });
  only_wire_errors(input, "decode_response", [&] {
    const wire::Response response = wire::decode_response(input);
    (void)response;
  });
  return 0;
}

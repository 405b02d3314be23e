// detail/http_compression.hpp: the coding chosen from Accept-Encoding (as Node's engine.io, through
// the npm negotiator package, chooses) and the bodies zlib makes, read back with zlib.
#include <chat/detail/http_compression.hpp>
#include <chat/engineio/request.hpp>

#include <catch2/catch.hpp>

#include <zlib.h>

#include <string>

using chat::detail::ContentCoding;
using chat::detail::negotiate_coding;

namespace {

/// `data` inflated: a gzip member or a zlib stream (zlib tells them apart with 15 + 32 bits).
std::string inflate_all(const std::string& data) {
  z_stream stream{};
  REQUIRE(inflateInit2(&stream, 15 + 32) == Z_OK);
  std::string out;
  char buffer[4096];
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(buffer);
    stream.avail_out = sizeof buffer;
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - stream.avail_out);
  }
  inflateEnd(&stream);
  REQUIRE(result == Z_STREAM_END);
  return out;
}

}  // namespace

TEST_CASE("http compression: the coding Accept-Encoding asks for", "[http_compression]") {
  CHECK(negotiate_coding("") == ContentCoding::identity);
  CHECK(negotiate_coding("gzip") == ContentCoding::gzip);
  CHECK(negotiate_coding("deflate") == ContentCoding::deflate);
  CHECK(negotiate_coding("GZIP") == ContentCoding::gzip);
  CHECK(negotiate_coding("br, identity") == ContentCoding::identity);
  // Equal q: the entry listed first.
  CHECK(negotiate_coding("gzip, deflate, br") == ContentCoding::gzip);
  CHECK(negotiate_coding("deflate, gzip") == ContentCoding::deflate);
  // The higher q wins; q=0 refuses.
  CHECK(negotiate_coding("gzip;q=0.5, deflate") == ContentCoding::deflate);
  CHECK(negotiate_coding("gzip;q=0.5, deflate;q=0.8") == ContentCoding::deflate);
  CHECK(negotiate_coding("gzip; q=0") == ContentCoding::identity);
  CHECK(negotiate_coding("gzip;q=0, deflate;q=0.1") == ContentCoding::deflate);
  // `*` stands for both, gzip first; a coding's own entry counts before `*`.
  CHECK(negotiate_coding("*") == ContentCoding::gzip);
  CHECK(negotiate_coding("*, gzip;q=0") == ContentCoding::deflate);
  CHECK(negotiate_coding("*;q=0.1, deflate;q=0.5") == ContentCoding::deflate);
  CHECK(negotiate_coding(" , gzip ,") == ContentCoding::gzip);
}

TEST_CASE("http compression: the threshold and the switch", "[http_compression]") {
  using chat::detail::response_coding;
  CHECK(response_coding(true, 1024, 1024, "gzip") == ContentCoding::gzip);
  CHECK(response_coding(true, 1024, 1023, "gzip") == ContentCoding::identity);
  CHECK(response_coding(false, 0, 5000, "gzip") == ContentCoding::identity);
  CHECK(response_coding(true, 0, 0, "deflate") == ContentCoding::deflate);
}

TEST_CASE("http compression: gzip and deflate bodies inflate to what went in", "[http_compression]") {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "42[\"message\",\"" + std::to_string(i) + "\"]\x1e";
  for (const auto coding : {ContentCoding::gzip, ContentCoding::deflate}) {
    const std::string compressed = chat::detail::compress(text, coding);
    CHECK(compressed.size() < text.size() / 3);
    // gzip's magic bytes, or a zlib header (CMF 0x78).
    if (coding == ContentCoding::gzip) CHECK(compressed.substr(0, 2) == "\x1f\x8b");
    else CHECK(compressed[0] == '\x78');
    CHECK(inflate_all(compressed) == text);
  }
  CHECK(inflate_all(chat::detail::compress("", ContentCoding::gzip)).empty());
  CHECK(chat::detail::compress("same", ContentCoding::identity) == "same");
}

TEST_CASE("engine.io error body: a message is escaped as a JSON string", "[engineio]") {
  CHECK(chat::engineio::error_body(chat::engineio::Error::forbidden, "say \"no\"\\\n") ==
        "{\"code\":4,\"message\":\"say \\\"no\\\"\\\\\\u000a\"}");
  CHECK(chat::engineio::error_body(chat::engineio::Error::forbidden) == "{\"code\":4,\"message\":\"Forbidden\"}");
}

// HTTP response compression (Options::http_compression): which content coding a request's
// Accept-Encoding asks for, and the body in that coding (zlib). Sans-I/O: the transport passes
// the header in and sends what comes out.
#ifndef CHAT_DETAIL_HTTP_COMPRESSION_HPP
#define CHAT_DETAIL_HTTP_COMPRESSION_HPP

#include <cstddef>      // size_t
#include <cstdlib>      // strtod
#include <stdexcept>    // runtime_error
#include <string>       // string
#include <string_view>  // string_view

#include <zlib.h>

namespace chat::detail {

/// The content codings the server compresses with, in its order of preference (Node's engine.io
/// offers the same two, in this order).
enum class ContentCoding { identity, gzip, deflate };

/// The name of a coding as the Content-Encoding header spells it ("" for identity).
inline std::string_view coding_name(ContentCoding coding) {
  switch (coding) {
    case ContentCoding::gzip: return "gzip";
    case ContentCoding::deflate: return "deflate";
    case ContentCoding::identity: break;
  }
  return "";
}

namespace compression_detail {

inline bool same_name(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

inline std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// How well one Accept-Encoding entry matches a coding, as the npm `negotiator` package ranks it
/// (engine.io picks with it): specificity (1 exact name, 0 `*`), quality, the entry's position.
struct Match {
  int specificity = -1;  ///< -1: no entry matches
  double quality = 0;
  int position = -1;
};

}  // namespace compression_detail

/// The coding to answer a request with, from its Accept-Encoding header, as Node's engine.io
/// chooses (`accepts(req).encodings(["gzip", "deflate"])`): each coding takes its best matching
/// entry (its own name before `*`, then the higher q); those with q 0 or no entry are out; the
/// higher q wins, then the exact name, then the entry listed first, then gzip. identity when
/// neither is acceptable (or the header is absent: `accept_encoding` empty).
inline ContentCoding negotiate_coding(std::string_view accept_encoding) {
  using compression_detail::Match;
  const ContentCoding candidates[] = {ContentCoding::gzip, ContentCoding::deflate};
  Match best[2];
  int position = 0;
  while (!accept_encoding.empty()) {
    const std::size_t comma = accept_encoding.find(',');
    std::string_view entry = compression_detail::trim(accept_encoding.substr(0, comma));
    accept_encoding.remove_prefix(comma == std::string_view::npos ? accept_encoding.size() : comma + 1);
    if (entry.empty()) continue;
    const int here = position++;
    const std::size_t semicolon = entry.find(';');
    const std::string_view name = compression_detail::trim(entry.substr(0, semicolon));
    double quality = 1;
    for (std::string_view params = semicolon == std::string_view::npos ? std::string_view() : entry.substr(semicolon + 1);
         !params.empty();) {
      const std::size_t next = params.find(';');
      const std::string_view param = compression_detail::trim(params.substr(0, next));
      params.remove_prefix(next == std::string_view::npos ? params.size() : next + 1);
      if (param.size() >= 2 && param.substr(0, 2) == "q=") quality = std::strtod(std::string(param.substr(2)).c_str(), nullptr);
    }
    for (int i = 0; i < 2; ++i) {
      int specificity = -1;
      if (compression_detail::same_name(name, coding_name(candidates[i]))) specificity = 1;
      else if (name == "*") specificity = 0;
      if (specificity < 0) continue;
      const Match match{specificity, quality, here};
      const Match& held = best[i];
      // negotiator keeps the more specific entry, then the higher q, then the later one.
      if (match.specificity > held.specificity ||
          (match.specificity == held.specificity &&
           (match.quality > held.quality || (match.quality == held.quality && match.position > held.position))))
        best[i] = match;
    }
  }
  int chosen = -1;
  for (int i = 0; i < 2; ++i) {
    if (best[i].specificity < 0 || !(best[i].quality > 0)) continue;
    if (chosen < 0) {
      chosen = i;
      continue;
    }
    const Match& a = best[i];
    const Match& b = best[chosen];
    if (a.quality > b.quality || (a.quality == b.quality && (a.specificity > b.specificity ||
                                                             (a.specificity == b.specificity && a.position < b.position))))
      chosen = i;
  }
  return chosen < 0 ? ContentCoding::identity : candidates[chosen];
}

/// `data` in `coding`: a gzip member, or a zlib stream (HTTP's "deflate"), at zlib's default
/// level. identity returns it unchanged. Throws std::runtime_error when zlib fails (out of
/// memory).
inline std::string compress(std::string_view data, ContentCoding coding) {
  if (coding == ContentCoding::identity) return std::string(data);
  z_stream stream{};
  // 15 bits of window; +16 asks zlib for the gzip wrapper instead of the zlib one.
  const int window_bits = coding == ContentCoding::gzip ? 15 + 16 : 15;
  if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("chat: zlib could not start compressing");
  std::string out;
  // deflateBound covers the zlib wrapper; the gzip one is 12 bytes longer.
  out.resize(deflateBound(&stream, static_cast<uLong>(data.size())) + 18);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  const std::size_t written = stream.total_out;
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("chat: zlib could not compress a response");
  out.resize(written);
  return out;
}

/// What `options`-style settings say of one response: the coding to send `size` bytes in to a
/// request with this Accept-Encoding (identity below the threshold, or when compression is off).
inline ContentCoding response_coding(bool enabled, std::size_t threshold, std::size_t size, std::string_view accept_encoding) {
  if (!enabled || size < threshold) return ContentCoding::identity;
  return negotiate_coding(accept_encoding);
}

}  // namespace chat::detail

#endif  // CHAT_DETAIL_HTTP_COMPRESSION_HPP

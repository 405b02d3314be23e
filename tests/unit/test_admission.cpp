// Who may open a session (detail/admission.hpp) and whose address a request counts against
// (detail/client_address.hpp): the server's limit, the per-address limits, the handshake rate
// with its refill, places given back, and X-Forwarded-For believed only from trusted proxies.
#include <chat/detail/admission.hpp>
#include <chat/detail/client_address.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <thread>
#include <string>
#include <variant>
#include <vector>

using chat::detail::Admission;
using chat::detail::Refusal;
using chat::detail::TrustedProxies;
using namespace std::chrono_literals;

namespace {

const Admission::Clock::time_point start{};

bool admitted(const std::variant<Admission::Ticket, Refusal>& verdict) {
  return std::holds_alternative<Admission::Ticket>(verdict);
}

Refusal::Kind refusal(const std::variant<Admission::Ticket, Refusal>& verdict) {
  REQUIRE(std::holds_alternative<Refusal>(verdict));
  return std::get<Refusal>(verdict).kind;
}

}  // namespace

TEST_CASE("admission: max_connections counts every session and takes back ended ones", "[admission]") {
  auto admission = std::make_shared<Admission>(chat::Options{}.max_connections(2));
  auto first = admission->admit("10.0.0.1", start);
  auto second = admission->admit("10.0.0.2", start);
  REQUIRE(admitted(first));
  REQUIRE(admitted(second));
  CHECK(admission->sessions() == 2);
  const auto third = admission->admit("10.0.0.3", start);
  CHECK(refusal(third) == Refusal::Kind::server_full);
  CHECK(std::get<Refusal>(third).status() == 503);
  CHECK(std::get<Refusal>(third).first);  // worth a log line; the next refusals are not
  CHECK_FALSE(std::get<Refusal>(admission->admit("10.0.0.3", start)).first);
  CHECK(admission->sessions() == 2);

  std::get<Admission::Ticket>(first).release();
  std::get<Admission::Ticket>(first).release();  // twice: given back once
  CHECK(admission->sessions() == 1);
  CHECK(admitted(admission->admit("10.0.0.3", start)));  // its ticket dies at once
  CHECK(admission->sessions() == 1);
  auto refill = admission->admit("10.0.0.4", start);
  CHECK(std::get<Refusal>(admission->admit("10.0.0.5", start)).first);  // full again: a new episode
  // Without per-address limits no address is remembered.
  CHECK(admission->addresses() == 0);
}

TEST_CASE("admission: no limit when max_connections is 0", "[admission]") {
  auto admission = std::make_shared<Admission>(chat::Options{}.max_connections(0));
  std::vector<Admission::Ticket> held;
  for (int i = 0; i < 1000; ++i) {
    auto verdict = admission->admit("10.0.0.1", start);
    REQUIRE(admitted(verdict));
    held.push_back(std::move(std::get<Admission::Ticket>(verdict)));
  }
  CHECK(admission->sessions() == 1000);
  held.clear();
  CHECK(admission->sessions() == 0);
}

TEST_CASE("admission: max_sessions_per_ip counts each address apart", "[admission]") {
  auto admission = std::make_shared<Admission>(chat::Options{}.max_sessions_per_ip(2));
  auto a1 = admission->admit("10.0.0.1", start);
  auto a2 = admission->admit("10.0.0.1", start);
  REQUIRE(admitted(a1));
  REQUIRE(admitted(a2));
  const auto a3 = admission->admit("10.0.0.1", start);
  CHECK(refusal(a3) == Refusal::Kind::too_many_sessions);
  CHECK(std::get<Refusal>(a3).status() == 429);
  CHECK(admitted(admission->admit("10.0.0.2", start)));

  // A moved ticket gives its place back once, from wherever it went.
  Admission::Ticket moved = std::move(std::get<Admission::Ticket>(a1));
  moved = Admission::Ticket();
  CHECK(admission->sessions() == 1);
  auto again = admission->admit("10.0.0.1", start);
  CHECK(admitted(again));
  CHECK(refusal(admission->admit("10.0.0.1", start)) == Refusal::Kind::too_many_sessions);
}

TEST_CASE("admission: the handshake rate is a burst then a steady rate, with Retry-After", "[admission]") {
  auto admission = std::make_shared<Admission>(chat::Options{}.handshake_rate_per_ip(0.5, 3));  // one per 2 s
  for (int i = 0; i < 3; ++i) CHECK(admitted(admission->admit("10.0.0.1", start)));
  const auto refused = admission->admit("10.0.0.1", start);
  CHECK(refusal(refused) == Refusal::Kind::too_many_handshakes);
  CHECK(std::get<Refusal>(refused).retry_after == 2s);
  CHECK(std::get<Refusal>(refused).status() == 429);
  CHECK(admitted(admission->admit("10.0.0.2", start)));  // another address has its own bucket

  // Sessions that ended do not give handshakes back: only time does.
  CHECK(admission->sessions() == 0);
  CHECK(refusal(admission->admit("10.0.0.1", start + 1s)) == Refusal::Kind::too_many_handshakes);
  // A refused attempt spends nothing it does not have: at 2 s there is one token again.
  CHECK(admitted(admission->admit("10.0.0.1", start + 2s)));
  CHECK(refusal(admission->admit("10.0.0.1", start + 2s)) == Refusal::Kind::too_many_handshakes);
  // A long pause refills to the burst, not beyond.
  for (int i = 0; i < 3; ++i) CHECK(admitted(admission->admit("10.0.0.1", start + 1h)));
  CHECK(refusal(admission->admit("10.0.0.1", start + 1h)) == Refusal::Kind::too_many_handshakes);
}

TEST_CASE("admission: addresses with no session and a full bucket are forgotten", "[admission]") {
  auto admission = std::make_shared<Admission>(chat::Options{}.handshake_rate_per_ip(1, 2));
  for (int i = 0; i < 10000; ++i) admission->admit("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), start);
  // Ten thousand addresses, each with a spent token still refilling: all remembered.
  CHECK(admission->addresses() == 10000);
  // An hour later every one of their buckets is full again: the next sweep (when the map has
  // doubled since the last) forgets them, and keeps the addresses still refilling.
  for (int i = 0; i < 7000; ++i) admission->admit("10.2." + std::to_string(i / 256) + "." + std::to_string(i % 256), start + 1h);
  CHECK(admission->addresses() == 7000);
}

TEST_CASE("admission: per-address counts without a rate are dropped with their last session", "[admission]") {
  auto admission = std::make_shared<Admission>(chat::Options{}.max_sessions_per_ip(5));
  {
    auto ticket = admission->admit("10.0.0.1", start);
    REQUIRE(admitted(ticket));
    CHECK(admission->addresses() == 1);
  }
  CHECK(admission->addresses() == 0);
}

TEST_CASE("options: a handshake rate with no burst is refused", "[admission]") {
  CHECK_THROWS_AS(chat::Options{}.handshake_rate_per_ip(1, 0), std::invalid_argument);
  CHECK_THROWS_AS(chat::Options{}.handshake_rate_per_ip(-1, 3), std::invalid_argument);
  CHECK_NOTHROW(chat::Options{}.handshake_rate_per_ip(0, 0));
}

TEST_CASE("trusted proxies: X-Forwarded-For is read from the right, past trusted proxies only", "[admission]") {
  const TrustedProxies none;
  CHECK(none.client_of("10.0.0.1", "1.2.3.4") == "10.0.0.1");

  const TrustedProxies proxies({"127.0.0.1", "10.0.0.0/8", "fd00::/8"});
  CHECK(proxies.trusts("127.0.0.1"));
  CHECK(proxies.trusts("::ffff:127.0.0.1"));
  CHECK(proxies.trusts("10.200.3.4"));
  CHECK(proxies.trusts("fd12::1"));
  CHECK_FALSE(proxies.trusts("11.0.0.1"));
  CHECK_FALSE(proxies.trusts("fe80::1"));
  CHECK_FALSE(proxies.trusts("not an address"));

  // From a trusted proxy: the rightmost address that is not a proxy.
  CHECK(proxies.client_of("127.0.0.1", "1.2.3.4") == "1.2.3.4");
  CHECK(proxies.client_of("127.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.7") == "1.2.3.4");
  CHECK(proxies.client_of("127.0.0.1", " 1.2.3.4 ,10.0.0.7 ") == "1.2.3.4");
  // Every entry a proxy: the leftmost. No header: the peer.
  CHECK(proxies.client_of("127.0.0.1", "10.0.0.9, 10.0.0.7") == "10.0.0.9");
  CHECK(proxies.client_of("127.0.0.1", "") == "127.0.0.1");
  // From anyone else the header is the client's own word: ignored.
  CHECK(proxies.client_of("11.0.0.1", "1.2.3.4") == "11.0.0.1");
}

TEST_CASE("trusted proxies: an entry that is not an address or a network is refused by name", "[admission]") {
  CHECK_THROWS_WITH(TrustedProxies({"10.0.0.0/8", "proxy.example"}), Catch::Contains("\"proxy.example\""));
  CHECK_THROWS_AS(TrustedProxies({"10.0.0.0/33"}), std::invalid_argument);
  CHECK_THROWS_AS(TrustedProxies({"::1/129"}), std::invalid_argument);
}

TEST_CASE("trusted proxies: entries with ports, brackets, other spellings and junk", "[admission]") {
  const TrustedProxies proxies({"127.0.0.1", "10.0.0.0/8", "::ffff:192.168.0.0/112"});
  // A port, or an IPv6 address in brackets with one, names the address alone.
  CHECK(proxies.client_of("127.0.0.1", "1.2.3.4:5678") == "1.2.3.4");
  CHECK(proxies.client_of("127.0.0.1", "[2001:DB8:0::1]:443") == "2001:db8::1");
  CHECK(proxies.client_of("127.0.0.1", "::ffff:1.2.3.4") == "1.2.3.4");
  CHECK(proxies.client_of("127.0.0.1", "1.2.3.4, 10.0.0.7:443") == "1.2.3.4");  // a trusted hop with a port
  // An IPv4-mapped network is the IPv4 network.
  CHECK(proxies.trusts("192.168.7.7"));
  CHECK(proxies.client_of("127.0.0.1", "1.2.3.4, 192.168.1.1") == "1.2.3.4");
  // An entry that is no address ends the walk at the last trusted hop: it may be the client's.
  CHECK(proxies.client_of("127.0.0.1", "1.2.3.4, junk, 10.0.0.7") == "10.0.0.7");
  CHECK(proxies.client_of("127.0.0.1", "junk") == "127.0.0.1");
  // A netmask instead of a prefix length is refused, as the Python package refuses it.
  CHECK_THROWS_AS(TrustedProxies({"10.0.0.0/255.0.0.0"}), std::invalid_argument);
}

TEST_CASE("address keys: IPv4 addresses alone, IPv6 addresses by their /64", "[admission]") {
  using chat::detail::address_key;
  CHECK(address_key("1.2.3.4") == "1.2.3.4");
  CHECK(address_key("2001:db8:1:2:aaaa::1") == address_key("2001:DB8:1:2:bbbb::2"));
  CHECK(address_key("2001:db8:1:2::1") != address_key("2001:db8:1:3::1"));
  CHECK(address_key("::ffff:1.2.3.4") == "1.2.3.4");
}

TEST_CASE("admission: refusals of a full server remember no address", "[admission]") {
  auto admission = std::make_shared<Admission>(chat::Options{}.max_connections(1).max_sessions_per_ip(5));
  auto held = admission->admit("10.0.0.1", start);
  REQUIRE(admitted(held));
  for (int i = 0; i < 5000; ++i)
    CHECK(refusal(admission->admit("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), start)) ==
          Refusal::Kind::server_full);
  CHECK(admission->addresses() == 1);
}

TEST_CASE("admission: admitted and released from several threads at once, the counts stay exact", "[admission]") {
  auto admission = std::make_shared<Admission>(chat::Options{}.max_connections(0).max_sessions_per_ip(1000000));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([admission, t] {
      std::vector<Admission::Ticket> held;
      for (int i = 0; i < 2000; ++i) {
        auto verdict = admission->admit("10.0.0." + std::to_string(t % 2), Admission::Clock::now());
        if (std::holds_alternative<Admission::Ticket>(verdict)) held.push_back(std::move(std::get<Admission::Ticket>(verdict)));
        if (i % 3 == 0) held.clear();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(admission->sessions() == 0);
  CHECK(admission->addresses() == 0);
}

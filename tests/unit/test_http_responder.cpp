// An HTTP hook's responder kept past the server's life (by a thread of the application's): its
// send, and its destruction, do nothing once the server is gone, on whatever thread.
#include <chat/server.hpp>

#include <catch2/catch.hpp>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/write.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <thread>

TEST_CASE("an HTTP responder outliving its server sends nothing and breaks nothing", "[http]") {
  std::promise<chat::HttpResponder> kept;
  std::optional<chat::HttpResponder> responder;
  {
    auto server = std::make_unique<chat::Server<>>();
    server->on_http([&kept](const chat::HttpRequest&, chat::HttpResponder r) {
      kept.set_value(r);
      return true;  // answered later
    });
    const auto port = server->listen("127.0.0.1", 0);
    std::thread loop([&] { server->run(); });

    asio::io_context io;
    asio::ip::tcp::socket client(io);
    client.connect({asio::ip::address_v4::loopback(), port});
    asio::write(client, asio::buffer(std::string("GET /later HTTP/1.1\r\nHost: x\r\n\r\n")));
    auto held = kept.get_future();
    REQUIRE(held.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    responder = held.get();

    server->stop();
    loop.join();
    server.reset();  // the io_context and the connection are gone; the responder is not
  }
  // From another thread, as an application's worker would.
  std::thread late([&] {
    CHECK(responder->send(chat::HttpResponse{200, {}, "too late"}));  // spent, though nobody hears it
    responder.reset();
  });
  late.join();
}

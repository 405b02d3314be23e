// The chat app's server side (docs/protocol.md): users with tokens, public rooms, private
// one-to-one rooms, history in a chat::store::SqliteStore, typing notices and presence.
//
// Everything runs on the server's io thread (the hooks), so the app's state needs no lock. The
// store is called from the hooks too: a SQLite commit in WAL mode without an fsync takes tens of
// microseconds, cheaper than handing each message to another thread and back.
//
// Several processes can serve one app (--redis): what a connection receives goes through Socket.IO
// rooms, which the Redis adapter carries to every process; who has a room open is in the shared
// SQLite file (presence.hpp); names are read from the store. What stays in this process is its
// own connections, the typing notices they started, and the rate limits' buckets.
#ifndef CHAT_EXAMPLE_CHAT_APP_HPP
#define CHAT_EXAMPLE_CHAT_APP_HPP

#include <chat/chat.hpp>
#include <chat/store/sqlite_store.hpp>

#include <asio/steady_timer.hpp>

#include "presence.hpp"
#include "rate_limits.hpp"

#include <websocketpp/sha1/sha1.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace chat_app {

using chat::json;
using chat::store::Message;
using chat::store::Room;
using chat::store::RoomKind;
using chat::store::SqliteStore;
using chat::store::StoreErrc;
using chat::store::StoreError;
using chat::store::User;

constexpr std::size_t max_name_length = 32;      // code points
constexpr std::size_t max_message_length = 2000;  // code points
constexpr int history_page = 50;
constexpr int max_history_page = 100;
constexpr int max_fill_in = 100;
constexpr const char* default_room = "general";

/// A refusal: the ack {"ok": false, "error": code, "message": message}, plus "retry_after"
/// (whole seconds) when it is not 0.
struct Refusal {
  std::string code;
  std::string message;
  std::int64_t retry_after = 0;
};

// ---- text rules shared with the Python server ----

inline std::string trim(const std::string& text) {
  const char* space = " \t\n\r\f\v";
  const auto first = text.find_first_not_of(space);
  if (first == std::string::npos) return {};
  return text.substr(first, text.find_last_not_of(space) - first + 1);
}

/// Unicode code points in valid UTF-8 (the JSON parser has already rejected invalid UTF-8).
inline std::size_t code_points(const std::string& text) {
  return std::size_t(std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

/// The code points of valid UTF-8.
inline std::vector<char32_t> decode_utf8(const std::string& text) {
  std::vector<char32_t> out;
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const int extra = lead < 0x80 ? 0 : lead < 0xE0 ? 1 : lead < 0xF0 ? 2 : 3;
    char32_t c = extra == 0 ? lead : lead & (0x3F >> extra);
    for (int k = 1; k <= extra && i + k < text.size(); ++k) c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    out.push_back(c);
    i += std::size_t(extra) + 1;
  }
  return out;
}

/// Characters a name may not hold: controls, and the invisible, spacing, bidi-control,
/// private-use and tag characters that would let one name pass for another ("alice" followed
/// by a zero-width space, a right-to-left override). The Python host refuses the same list.
inline bool forbidden_in_name(char32_t c) {
  static constexpr std::pair<char32_t, char32_t> ranges[] = {
      {0x0000, 0x001F},   {0x007F, 0x00A0},   {0x00AD, 0x00AD},   {0x034F, 0x034F},   {0x061C, 0x061C},
      {0x115F, 0x1160},   {0x17B4, 0x17B5},   {0x180B, 0x180F},   {0x2000, 0x200F},   {0x2028, 0x202F},
      {0x205F, 0x206F},   {0x3000, 0x3000},   {0x3164, 0x3164},   {0xFE00, 0xFE0F},   {0xFEFF, 0xFEFF},
      {0xFFA0, 0xFFA0},   {0xFFF0, 0xFFFF},   {0xE000, 0xF8FF},   {0x1D173, 0x1D17A}, {0xE0000, 0xE0FFF},
      {0xF0000, 0x10FFFF}};
  for (const auto& [first, last] : ranges) {
    if (c >= first && c <= last) return true;
  }
  return false;
}

inline std::optional<Refusal> check_user_name(const std::string& name) {
  const auto characters = decode_utf8(name);
  if (characters.empty() || characters.size() > max_name_length ||
      std::any_of(characters.begin(), characters.end(), forbidden_in_name)) {
    return Refusal{"bad_name", "A name is 1 to 32 characters, without control or invisible characters."};
  }
  return std::nullopt;
}

/// The id of a public room named `name`, or nothing when the name is not 1 to 32 of [A-Za-z0-9_-].
inline std::optional<std::string> public_room_id(const std::string& name) {
  if (name.empty() || name.size() > 32) return std::nullopt;
  std::string id;
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return std::nullopt;
    id += char(std::tolower(static_cast<unsigned char>(c)));
  }
  return id;
}

inline bool is_private_id(const std::string& room) { return room.rfind("dm:", 0) == 0; }

/// The two user ids of a well-formed private room id "dm:LOW:HIGH" (decimal, no sign, no
/// leading zero, LOW < HIGH), as digits: a stranger's probe may hold numbers of any length.
inline std::optional<std::pair<std::string, std::string>> private_members(const std::string& room) {
  if (!is_private_id(room)) return std::nullopt;
  const auto is_number = [](const std::string& digits) {
    return !digits.empty() && digits[0] != '0' &&
           std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  const auto colon = room.find(':', 3);
  if (colon == std::string::npos) return std::nullopt;
  auto low = room.substr(3, colon - 3);
  auto high = room.substr(colon + 1);
  if (!is_number(low) || !is_number(high)) return std::nullopt;
  if (std::make_pair(low.size(), low) >= std::make_pair(high.size(), high)) return std::nullopt;  // numeric order
  return std::make_pair(std::move(low), std::move(high));
}

/// Whether `user` is one of the two members a private room id names.
inline bool names_member(const std::pair<std::string, std::string>& members, std::int64_t user) {
  const auto id = std::to_string(user);
  return members.first == id || members.second == id;
}

/// The store keeps a hash of each token, never the token: a copy of the file logs nobody in.
/// SHA-1 hex, as the Python server computes it, so both servers share one file.
inline std::string token_hash(const std::string& token) {
  unsigned char digest[20];
  websocketpp::sha1::calc(token.data(), token.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : digest) {
    out += hex[byte >> 4];
    out += hex[byte & 15];
  }
  return out;
}

/// 24 random bytes as URL-safe base64 (32 characters), like Python's secrets.token_urlsafe(24).
inline std::string new_token() {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::random_device random;  // the kernel's CSPRNG on Linux
  std::string token;
  for (int i = 0; i < 32; ++i) token += alphabet[random() % 64];
  return token;
}

inline std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// ---- JSON shapes of docs/protocol.md ----

inline json user_json(const User& user) { return {{"id", user.id}, {"name", user.name}}; }

/// A room as `viewer` sees it: a private room is named after its other member.
inline json room_json(const Room& room, std::int64_t viewer) {
  json out = {{"id", room.id}, {"name", room.name}, {"kind", room.kind == RoomKind::private_room ? "private" : "public"}};
  if (room.kind == RoomKind::private_room) {
    json members = json::array();
    for (const auto& member : room.members) {
      members.push_back(user_json(member));
      if (member.id != viewer) out["name"] = member.name;
    }
    out["members"] = std::move(members);
  }
  return out;
}

inline json message_json(const Message& message) {
  return {{"id", message.id}, {"room", message.room}, {"author", user_json(message.author)},
          {"text", message.text}, {"time", message.time}};
}

inline json messages_json(const std::vector<Message>& messages) {
  json out = json::array();
  for (const auto& message : messages) out.push_back(message_json(message));
  return out;
}

/// The chat app on a server and a store. Construct it before `Server::run()`.
template <class Config = chat::transport::PlainConfig>
class ChatApp {
 public:
  ChatApp(chat::Server<Config>& io, SqliteStore& store, Presence& presence, const Limits& limits = {})
      : io_(io), store_(store), presence_(presence), beat_timer_(io.io_context()), messages_limit_(limits.messages), signups_limit_(limits.signups),
        signups_per_address_limit_(limits.signups_per_ip), rooms_limit_(limits.rooms),
        renames_limit_(limits.renames), typing_limit_(limits.typing) {
    store_.open_public_room(default_room);
    handle("login", &ChatApp::login);
    handle("rename", &ChatApp::rename);
    handle("join", &ChatApp::join);
    handle("leave", &ChatApp::leave);
    handle("history", &ChatApp::history);
    handle("message", &ChatApp::message);
    handle("typing", &ChatApp::typing);
    handle("open_private", &ChatApp::open_private);
    handle("rooms", &ChatApp::rooms);
    io_.on_any([](chat::Socket&, chat::Event& event) {
      event.ack(refusal({"bad_request", "Unknown event \"" + event.name() + "\"."}));
    });
    io_.on_disconnect([this](chat::Socket& socket, chat::DisconnectReason reason) {
      // At a stop, the rows of its connections stay for the other processes to announce: this
      // one's broadcasts may not leave before it does.
      if (reason != chat::DisconnectReason::server_shutting_down) disconnected(socket);
    });
    beat();
  }

  /// Stops the presence beat, so that `Server::run()` can return once the server stops. On the
  /// io thread, before `Server::stop()`.
  void stop() {
    stopped_ = true;
    beat_timer_.cancel();
  }

 private:
  using Body = json (ChatApp::*)(chat::Socket&, const json& request);

  struct Connection {
    std::int64_t user = 0;  // 0: not logged in
    std::set<std::string> open_rooms;
  };

  static json refusal(const Refusal& r) {
    json out = {{"ok", false}, {"error", r.code}, {"message", r.message}};
    if (r.retry_after > 0) out["retry_after"] = r.retry_after;
    return out;
  }
  static Refusal bad_request(const std::string& why) { return {"bad_request", why}; }
  static Refusal rate_limited(const std::string& what, std::int64_t wait) {
    return {"rate_limited", what + ": try again in " + wait_phrase(wait) + ".", wait};
  }

  /// Registers one event: checks that its argument is an object, runs the body, and acks its
  /// answer; a Refusal thrown by the body becomes an error ack, and so does a store failure.
  void handle(const std::string& name, Body body) {
    io_.on(name, [this, name, body](chat::Socket& socket, chat::Event& event) {
      json answer;
      try {
        if (event.args().empty() || !event.args()[0].is_object()) throw bad_request("The argument must be an object.");
        if (name != "login" && connection(socket).user == 0) throw Refusal{"not_logged_in", "Log in first."};
        answer = (this->*body)(socket, event.args()[0]);
        answer["ok"] = true;
      } catch (const Refusal& r) {
        answer = refusal(r);
      } catch (const StoreError& e) {
        std::cerr << "chat: store: " << e.what() << std::endl;
        answer = refusal({"unavailable", "The server cannot store this now; try again later."});
      } catch (const std::exception& e) {
        std::cerr << "chat: " << name << ": " << e.what() << std::endl;
        answer = refusal({"unavailable", "The server failed to handle this; try again later."});
      }
      event.ack(std::move(answer));
    });
  }

  // ---- request fields: a modified client may send any type ----

  static std::string text_field(const json& request, const char* key) {
    const auto it = request.find(key);
    if (it == request.end() || !it->is_string()) throw bad_request(std::string("\"") + key + "\" must be a string.");
    return it->get<std::string>();
  }
  static std::optional<std::int64_t> integer_field(const json& request, const char* key, bool required) {
    const auto it = request.find(key);
    if (it == request.end() || it->is_null()) {
      if (required) throw bad_request(std::string("\"") + key + "\" is missing.");
      return std::nullopt;
    }
    if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
      throw bad_request(std::string("\"") + key + "\" must be a non-negative integer.");
    }
    return it->get<std::int64_t>();
  }

  Connection& connection(chat::Socket& socket) { return connections_[socket.id()]; }
  /// The connection's user as stored now: another process may have renamed them.
  User user_of(const Connection& c) {
    auto user = store_.find_user(c.user);
    if (!user) throw std::runtime_error("user " + std::to_string(c.user) + " is not in the store");
    return *user;
  }

  static Refusal forbidden() { return {"forbidden", "This conversation is not yours."}; }

  /// The room `requested` names, if this user may read it. Public names are matched in any case.
  /// A private room of others is `forbidden` whether or not it exists: the answer must not tell
  /// a stranger who talks to whom.
  Room room_for(const std::string& requested, std::int64_t user) {
    if (is_private_id(requested)) {
      const auto members = private_members(requested);
      if (!members) throw Refusal{"not_found", "There is no such conversation."};
      if (!names_member(*members, user)) throw forbidden();
      auto room = store_.find_room(requested);
      if (!room) throw Refusal{"not_found", "There is no such conversation."};
      return *room;
    }
    const auto id = public_room_id(requested);
    if (!id) throw Refusal{"bad_room_name", "A room name is 1 to 32 letters, digits, - or _."};
    auto room = store_.find_room(*id);
    if (!room) throw Refusal{"not_found", "There is no room \"" + *id + "\"."};
    return *room;
  }

  /// The id of the room `requested` names if it is open on this connection. Posting to a private
  /// room of others is `forbidden`; anything else not open is `not_joined`.
  enum class Use { post, close };
  static std::string open_room_id(std::string requested, const Connection& c, Use use) {
    if (!is_private_id(requested)) {
      if (const auto id = public_room_id(requested)) requested = *id;
    }
    if (!c.open_rooms.count(requested)) {
      const auto members = private_members(requested);
      if (use == Use::post && members && !names_member(*members, c.user)) throw forbidden();
      throw Refusal{"not_joined", "Open the room first."};
    }
    return requested;
  }

  json room_lists(std::int64_t user) {
    json rooms = json::array();
    for (const auto& room : store_.public_rooms()) {
      if (room.id == default_room) rooms.insert(rooms.begin(), room_json(room, user));
      else rooms.push_back(room_json(room, user));
    }
    json conversations = json::array();
    for (const auto& room : store_.private_rooms_of(user)) conversations.push_back(room_json(room, user));
    return {{"rooms", std::move(rooms)}, {"conversations", std::move(conversations)}};
  }

  json online_in(const std::string& room) {
    auto users = presence_.online(room);
    // By name as people read a list: without regard to case, as names are compared.
    const auto folded = [](std::string name) {
      for (auto& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      return name;
    };
    std::sort(users.begin(), users.end(), [&](const User& a, const User& b) {
      return std::make_pair(folded(a.name), a.id) < std::make_pair(folded(b.name), b.id);
    });
    json out = json::array();
    for (const auto& user : users) out.push_back(user_json(user));
    return out;
  }

  // ---- events ----

  json login(chat::Socket& socket, const json& request) {
    std::optional<User> user;
    std::string token;
    if (const auto it = request.find("token"); it != request.end() && !it->is_null()) {
      if (!it->is_string()) throw bad_request("\"token\" must be a string.");
      token = it->get<std::string>();
      if (!token.empty()) user = store_.find_user_by_secret(token_hash(token));
    }
    if (!user) {
      const auto name = trim(text_field(request, "name"));
      if (auto refused = check_user_name(name)) throw *refused;
      if (store_.find_user_by_name(name)) throw Refusal{"name_taken", "The name \"" + name + "\" is taken."};
      spend_signup(socket);
      token = new_token();
      try {
        user = store_.create_user(name, token_hash(token));
      } catch (const StoreError& e) {
        if (e.code() == StoreErrc::name_taken) throw Refusal{"name_taken", "The name \"" + name + "\" is taken."};
        throw;
      }
    }
    auto& c = connection(socket);
    if (c.user != 0) logout(socket, c);
    c.user = user->id;
    socket.join("users");
    socket.join("user:" + std::to_string(user->id));
    json answer = room_lists(user->id);
    answer["user"] = user_json(*user);
    answer["token"] = token;
    return answer;
  }

  /// A new user takes a token of this connection's and of its address's: both, or neither.
  void spend_signup(chat::Socket& socket) {
    const auto now = Clock::now();
    const auto address = address_key(socket.handshake().address);
    const auto here = signups_limit_.wait(socket.id(), now);
    const auto there = signups_per_address_limit_.wait(address, now);
    if (here >= there && here > 0) throw rate_limited("Too many new users on this connection", here);
    if (there > 0) throw rate_limited("Too many new users from your network", there);
    signups_limit_.take(socket.id(), now);
    signups_per_address_limit_.take(address, now);
  }

  json rename(chat::Socket& socket, const json& request) {
    const auto& c = connection(socket);
    const auto name = trim(text_field(request, "name"));
    if (auto refused = check_user_name(name)) throw *refused;
    const auto current = user_of(c);
    const auto old_name = current.name;
    if (name == old_name) return {{"user", user_json(current)}};
    const auto holder = store_.find_user_by_name(name);
    if (holder && holder->id != c.user) throw Refusal{"name_taken", "The name \"" + name + "\" is taken."};
    if (const auto wait = renames_limit_.try_take(c.user)) throw rate_limited("Too many name changes", wait);
    try {
      store_.rename_user(c.user, name);
    } catch (const StoreError& e) {
      if (e.code() == StoreErrc::name_taken) throw Refusal{"name_taken", "The name \"" + name + "\" is taken."};
      throw;
    }
    presence_.rename(c.user, name);
    const auto user = user_json(user_of(c));
    io_.to("users").emit("user_renamed", json{{"user", user}, {"old_name", old_name}});
    return {{"user", user}};
  }

  json join(chat::Socket& socket, const json& request) {
    auto& c = connection(socket);
    const auto requested = text_field(request, "room");
    const auto since = integer_field(request, "since", false);
    Room room;
    bool created = false;
    if (is_private_id(requested)) {
      room = room_for(requested, c.user);
    } else {
      const auto id = public_room_id(requested);
      if (!id) throw Refusal{"bad_room_name", "A room name is 1 to 32 letters, digits, - or _."};
      // Only a new room counts, and a refused one is not made.
      const auto wait = store_.find_room(*id) ? std::int64_t{0} : rooms_limit_.try_take(c.user);
      if (wait) throw rate_limited("Too many new rooms", wait);
      std::tie(room, created) = store_.open_public_room(*id);
      if (created) io_.to("users").emit("room_created", room_json(room, 0));  // it exists, whatever follows
    }
    // Read before anything changes, so that a failed read leaves the room closed. Nothing can be
    // broadcast in between: this runs on the io thread, as every broadcast does.
    const auto page = since ? store_.after(room.id, *since, max_fill_in) : store_.latest(room.id, history_page);
    if (!c.open_rooms.count(room.id)) {
      const auto user = user_of(c);
      const bool first = presence_.open(socket.id(), room.id, user);  // first: a failure changes nothing
      c.open_rooms.insert(room.id);
      socket.join("room:" + room.id);
      if (first) socket.to("room:" + room.id).emit("user_joined", json{{"room", room.id}, {"user", user_json(user)}});
    }
    return {{"room", room_json(room, c.user)}, {"messages", messages_json(page.messages)},
            {"has_more", page.has_more}, {"online", online_in(room.id)}};
  }

  json leave(chat::Socket& socket, const json& request) {
    auto& c = connection(socket);
    const auto room = open_room_id(text_field(request, "room"), c, Use::close);
    close_room(socket, c, room);
    return json::object();
  }

  json history(chat::Socket& socket, const json& request) {
    const auto& c = connection(socket);
    const auto requested = text_field(request, "room");
    const auto before = integer_field(request, "before", true);
    const auto limit = integer_field(request, "limit", false).value_or(history_page);
    if (limit < 1 || limit > max_history_page) throw bad_request("\"limit\" is 1 to 100.");
    const auto room = room_for(requested, c.user);
    const auto page = store_.before(room.id, *before, int(limit));
    return {{"messages", messages_json(page.messages)}, {"has_more", page.has_more}};
  }

  json message(chat::Socket& socket, const json& request) {
    auto& c = connection(socket);
    const auto requested = text_field(request, "room");
    const auto text = trim(text_field(request, "text"));
    const auto room_id = open_room_id(requested, c, Use::post);
    if (text.empty()) throw Refusal{"empty_message", "The message is empty."};
    if (code_points(text) > max_message_length) {
      throw Refusal{"message_too_long", "A message holds at most 2,000 characters."};
    }
    if (const auto wait = messages_limit_.try_take(c.user)) throw rate_limited("Too many messages at once", wait);
    const auto author = user_of(c);
    // Recipients first: once the message is stored, nothing may stop its broadcast (a client
    // told "unavailable" would send it again, and it would be there twice).
    const auto everyone = audience(room_id);
    const auto typers = others(socket, room_id, author.id);
    const auto stored = message_json(store_.append(room_id, author, text, now_ms()));
    stop_typing(typers, room_id, author);
    everyone.emit("message", stored);
    return {{"message", stored}};
  }

  json typing(chat::Socket& socket, const json& request) {
    auto& c = connection(socket);
    const auto requested = text_field(request, "room");
    const auto it = request.find("typing");
    if (it == request.end() || !it->is_boolean()) throw bad_request("\"typing\" must be true or false.");
    const auto room_id = open_room_id(requested, c, Use::post);
    const auto user = user_of(c);
    const auto typers = others(socket, room_id, user.id);
    if (it->get<bool>()) {
      // Only "typing" is limited: a "stopped" goes out only after a counted "typing".
      if (const auto wait = typing_limit_.try_take(user.id)) throw rate_limited("Too many typing notices", wait);
      typing_[room_id].insert(user.id);
      typers.emit("typing", json{{"room", room_id}, {"user", user_json(user)}, {"typing", true}});
    } else {
      stop_typing(typers, room_id, user);
    }
    return json::object();
  }

  json open_private(chat::Socket& socket, const json& request) {
    const auto& c = connection(socket);
    const auto name = trim(text_field(request, "user"));
    const auto other = store_.find_user_by_name(name);
    if (!other) throw Refusal{"not_found", "There is no user \"" + name + "\"."};
    if (other->id == c.user) throw bad_request("A private conversation needs someone else.");
    const auto [room, created] = store_.open_private_room(c.user, other->id);
    if (created) io_.to("user:" + std::to_string(other->id)).emit("room_created", room_json(room, other->id));
    return {{"room", room_json(room, c.user)}};
  }

  json rooms(chat::Socket& socket, const json&) { return room_lists(connection(socket).user); }

  // ---- who receives what ----

  /// Everyone a room's messages go to: its open connections; for a private room, every connection
  /// of both members (so a member who has not opened it learns of it).
  chat::BroadcastOperator audience(const std::string& room_id) {
    const auto members = private_members(room_id);
    if (!members) return io_.to("room:" + room_id);
    return io_.to("user:" + members->first).to("user:" + members->second);
  }

  /// The others a typing notice goes to: the room's other connections; for a private room, the
  /// other member's connections.
  chat::BroadcastOperator others(chat::Socket& socket, const std::string& room_id, std::int64_t user) {
    const auto members = private_members(room_id);
    if (!members) return socket.to("room:" + room_id);
    return io_.to("user:" + (members->first == std::to_string(user) ? members->second : members->first));
  }

  void stop_typing(const chat::BroadcastOperator& typers, const std::string& room_id, const User& user) {
    auto it = typing_.find(room_id);
    if (it == typing_.end() || !it->second.erase(user.id)) return;
    if (it->second.empty()) typing_.erase(it);
    typers.emit("typing", json{{"room", room_id}, {"user", user_json(user)}, {"typing", false}});
  }

  // ---- leaving ----

  void close_room(chat::Socket& socket, Connection& c, const std::string& room_id) {
    c.open_rooms.erase(room_id);
    socket.leave("room:" + room_id);
    if (!presence_.close(socket.id(), room_id, c.user)) return;
    if (auto typing = typing_.find(room_id); typing != typing_.end()) typing->second.erase(c.user);
    io_.to("room:" + room_id).emit("user_left", json{{"room", room_id}, {"user", user_json(user_of(c))}});
  }

  void logout(chat::Socket& socket, Connection& c) {
    while (!c.open_rooms.empty()) close_room(socket, c, *c.open_rooms.begin());
    socket.leave("user:" + std::to_string(c.user));
    c.user = 0;
  }

  void disconnected(chat::Socket& socket) {
    signups_limit_.forget(socket.id());
    const auto it = connections_.find(socket.id());
    if (it == connections_.end()) return;
    if (it->second.user != 0) logout(socket, it->second);
    connections_.erase(it);
  }

  // ---- the other processes ----

  /// Every presence_beat: shows this process alive, announces who left with a process that
  /// stopped or died, and puts this one's rows back if it was silent so long that another took
  /// them.
  void beat() {
    try {
      auto beat = presence_.beat();
      for (const auto& gone : beat.departed) {
        io_.to("room:" + gone.room).emit("user_left", json{{"room", gone.room}, {"user", user_json(gone.user)}});
      }
      if (beat.was_taken_for_dead) restore_presence();
    } catch (const std::exception& e) {  // the file is busy: the next beat tries again
      std::cerr << "chat: presence: " << e.what() << std::endl;
    }
    beat_timer_.expires_after(presence_beat);
    beat_timer_.async_wait([this](const std::error_code& ec) {
      if (!ec && !stopped_) beat();
    });
  }

  void restore_presence() {
    for (const auto& [socket_id, c] : connections_) {
      if (c.user == 0) continue;
      const auto user = user_of(c);
      for (const auto& room : c.open_rooms) {
        if (presence_.open(socket_id, room, user)) {
          io_.to("room:" + room).emit("user_joined", json{{"room", room}, {"user", user_json(user)}});
        }
      }
    }
  }

  chat::Server<Config>& io_;
  SqliteStore& store_;
  std::unordered_map<std::string, Connection> connections_;             // by socket id
  Presence& presence_;                                                   // who has which room open, in any process
  asio::steady_timer beat_timer_;
  bool stopped_ = false;
  std::unordered_map<std::string, std::set<std::int64_t>> typing_;       // room -> users typing
  Buckets<std::int64_t> messages_limit_;             // by user
  Buckets<std::string> signups_limit_;               // by socket id
  Buckets<std::string> signups_per_address_limit_;   // by address_key()
  Buckets<std::int64_t> rooms_limit_;                // by user
  Buckets<std::int64_t> renames_limit_;              // by user
  Buckets<std::int64_t> typing_limit_;               // by user
};

}  // namespace chat_app

#endif  // CHAT_EXAMPLE_CHAT_APP_HPP

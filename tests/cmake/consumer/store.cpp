// Stores and reads back a message through chat::store: proof that the exported target carries
// SQLite and the store's headers.
#include <chat/store/sqlite_store.hpp>

#include <iostream>

int main() {
  chat::store::SqliteStore store(":memory:");
  const auto alice = store.create_user("alice", "secret");
  store.open_public_room("general");
  store.append("general", alice, "hello", 1);
  const auto page = store.latest("general", 10);
  std::cout << "chat::store read back " << page.messages.size() << " message\n";
  return page.messages.size() == 1 && page.messages[0].text == "hello" ? 0 : 1;
}

// socket.io-client (Node) in a room of a chat cluster, for tests/python/test_message_queue.py.
//
//   node cluster_listener.mjs <url> <room> <count>
//
// Joins room, prints READY, then prints one line of JSON with the first <count> `said` events'
// payloads and exits 0 (or {"error": ...} and 1 after 15 s).
import { io } from "socket.io-client";

const [url, room, count] = process.argv.slice(2);
const socket = io(url, { transports: ["websocket"], reconnection: false, forceNew: true });
const said = [];
const give_up = setTimeout(() => {
  console.log(JSON.stringify({ error: "timed out", said }));
  process.exit(1);
}, 15000);
socket.on("said", (payload) => {
  said.push(payload);
  if (said.length === Number(count)) {
    clearTimeout(give_up);
    console.log(JSON.stringify({ said }));
    socket.close();
  }
});
socket.on("connect", async () => {
  await socket.emitWithAck("join", room);
  console.log("READY");
});

// A socket.io server on @socket.io/redis-adapter (createAdapter, node-redis) in a process of its
// own, so cluster.test.mjs can freeze it (SIGSTOP: its subscriptions stay, nothing answers) and
// kill it. Usage: node node_cluster_peer.mjs REDIS_URL; prints `LISTENING <port>` once it listens.
import { createRequire } from "node:module";
import http from "node:http";
import path from "node:path";
import { REPO_ROOT } from "./support.mjs";

const require = createRequire(path.join(REPO_ROOT, "package.json"));
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { createClient } = require("redis");

const pub = createClient({ url: process.argv[2] });
const sub = pub.duplicate();
for (const client of [pub, sub]) client.on("error", () => {}); // Redis away: they retry on their own
await Promise.all([pub.connect(), sub.connect()]);

const httpServer = http.createServer();
const io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
io.on("connection", (socket) => {
  socket.data = { peer: true };
  socket.join("peer-room");
});
io.on("chat-asks", (...args) => args.pop()({ peer: args }));

process.on("SIGTERM", async () => {
  await io.close();
  await Promise.all([pub, sub].map((client) => client.quit().catch(() => {})));
});
httpServer.listen(0, "127.0.0.1", () => console.log(`LISTENING ${httpServer.address().port}`));

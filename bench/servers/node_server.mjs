// Node peer: socket.io 4.8 (bench/node_modules, installed by bench/run with npm ci --prefix bench).
// On 'message' it broadcasts 'message' with the same arguments to everyone (the sender included);
// on 'echo' it acknowledges with the same arguments. WebSocket only, no compression, ping 25 s /
// 20 s, no logging.
//
//   node node_server.mjs [--host 127.0.0.1] [--port 0] [--redis URL] [--tls-cert FILE --tls-key FILE]
//                        [--parser json|msgpack]
// Prints "READY <port>" once listening; SIGINT/SIGTERM stop it. --redis URL: the cluster case,
// on @socket.io/redis-adapter (createAdapter, node-redis clients) as its README sets it up.
// --tls-cert and --tls-key: the TLS case, on Node's https server (TLS 1.2 or later).
// --parser msgpack: the msgpack case, with socket.io-msgpack-parser as the server's parser.
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as createSecureServer } from "node:https";
import { Server } from "socket.io";

let host = "127.0.0.1";
let port = 0;
let redis = null;
let tlsCert = null;
let tlsKey = null;
let parserName = "json";
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  if (process.argv[i] === "--host") host = process.argv[i + 1];
  else if (process.argv[i] === "--port") port = Number(process.argv[i + 1]);
  else if (process.argv[i] === "--redis") redis = process.argv[i + 1];
  else if (process.argv[i] === "--tls-cert") tlsCert = process.argv[i + 1];
  else if (process.argv[i] === "--tls-key") tlsKey = process.argv[i + 1];
  else if (process.argv[i] === "--parser" && ["json", "msgpack"].includes(process.argv[i + 1])) parserName = process.argv[i + 1];
  else {
    console.error(
      "usage: node node_server.mjs [--host H] [--port P] [--redis URL] [--tls-cert FILE --tls-key FILE] [--parser json|msgpack]",
    );
    process.exit(2);
  }
}

const httpServer = tlsCert
  ? createSecureServer({ cert: readFileSync(tlsCert), key: readFileSync(tlsKey), minVersion: "TLSv1.2" })
  : createServer();
const io = new Server(httpServer, {
  transports: ["websocket"],
  perMessageDeflate: false,
  httpCompression: false,
  pingInterval: 25000,
  pingTimeout: 20000,
  serveClient: false,
  ...(parserName === "msgpack" ? { parser: (await import("socket.io-msgpack-parser")).default } : {}),
});

if (redis) {
  const { createClient } = await import("redis");
  const { createAdapter } = await import("@socket.io/redis-adapter");
  const pubClient = createClient({ url: redis });
  const subClient = pubClient.duplicate();
  await Promise.all([pubClient.connect(), subClient.connect()]);
  io.adapter(createAdapter(pubClient, subClient));
}

io.on("connection", (socket) => {
  socket.on("message", (...args) => {
    io.emit("message", ...args);
  });
  socket.on("echo", (...args) => {
    const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
    if (ack) ack(...args);
  });
});

httpServer.listen(port, host, () => {
  console.log(`READY ${httpServer.address().port}`);
});

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    io.close();
    process.exit(0);
  });
}

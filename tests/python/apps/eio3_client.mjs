// socket.io-client 2.x (Engine.IO v3, Socket.IO v2; npm's socket.io-client-v2) against a Python
// host with SocketIO(app, allow_eio3=True), for tests/python/test_eio3.py.
//
//   node eio3_client.mjs <scenario> <url> <transport: polling|websocket|default>
//
// Prints one line of JSON (bytes as {"$bytes": "<hex>"}) and exits 0, or prints {"error": ...}
// and exits 1. Every wait is bounded.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { ack, next, runScenario, timeout, transportOptions, WAIT_MS } from "./scenario.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.resolve(here, "..", "..", "..", "package.json"));
const ioV2 = require("socket.io-client-v2");

const [scenario, url, transport] = process.argv.slice(2);

function connect(nsp = "/", opts = {}) {
  return ioV2(url + (nsp === "/" ? "" : nsp), {
    forceNew: true, reconnection: false, timeout: WAIT_MS, ...transportOptions(transport), ...opts,
  });
}

/// 2.x reports a refused namespace as `error` and a failed connection as `connect_error`.
function connected(socket) {
  return timeout(new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (err) => reject(new Error("connect_error: " + err)));
    socket.once("error", (err) => reject(new Error("error: " + JSON.stringify(err))));
  }), "connect");
}

function upgraded(socket) {
  const engine = socket.io.engine;
  if (transport !== "default" || engine.transport.name === "websocket") return Promise.resolve();
  return timeout(new Promise((resolve) => engine.once("upgrade", resolve)), "the upgrade");
}

const scenarios = {
  // events, acks both ways, binary, a namespace with a query, the server's disconnect
  async basic() {
    const out = {};
    const socket = connect("/", { query: { q: "from-v2" } });
    const welcome = next(socket, "welcome");
    await connected(socket);
    await upgraded(socket);
    out.transport = socket.io.engine.transport.name;
    out.sid = socket.id;
    out.engine_sid = socket.io.engine.id;
    out.welcome = (await welcome)[0];

    const echoed = next(socket, "echoed");
    out.echo_ack = await ack(socket, "echo", { text: "héllo 😀", n: [1, 2] });
    out.echo_event = (await echoed)[0];
    out.binary_ack = await ack(socket, "echo", { a: Buffer.from([0, 1, 2, 255]), list: [Buffer.from("xyz")] });

    socket.on("question", (data, reply) => reply("v2 answer", data));
    const answered = next(socket, "answered");
    socket.emit("ask", { n: 1 });
    out.answered = (await answered)[0];

    const room = connect("/chat", { query: { token: "t1" } });
    const roomWelcome = next(room, "welcome");
    await connected(room);
    out.chat_sid = room.id;
    out.chat_engine_sid = room.io.engine.id;  // its own connection (forceNew)
    out.chat_welcome = (await roomWelcome)[0];
    out.chat_ack = await ack(room, "echo", "in chat");

    const refused = connect("/chat", { query: { token: "bad" } });
    out.refused = (await next(refused, "error"))[0];

    const gone = next(socket, "disconnect");
    socket.emit("kick");
    out.disconnect = (await gone)[0];
    room.close();
    refused.close();
    return out;
  },
};

runScenario(scenarios, scenario);

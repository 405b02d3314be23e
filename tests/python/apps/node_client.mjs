// socket.io-client (Node) scenarios against the chat app of realtime_app.py, for
// tests/python/test_real_sockets.py.
//
//   node node_client.mjs <scenario> <url> <transport: polling|websocket|default>
//
// Prints one line of JSON (the scenario's observations; bytes as {"$bytes": "<hex>"}) and exits
// 0, or prints {"error": "..."} and exits 1. Every wait is bounded, so a broken server fails the
// scenario instead of hanging it.
import { ack, connected, io, next, runScenario, timeout, transportOptions, WAIT_MS } from "./scenario.mjs";

const [scenario, url, transport] = process.argv.slice(2);
const transportOpts = transportOptions(transport);

function connect(nsp = "/", opts = {}) {
  return io(url + (nsp === "/" ? "" : nsp), {
    forceNew: true, reconnection: false, timeout: WAIT_MS, ...transportOpts, ...opts,
  });
}

const scenarios = {
  // events, acks both ways, binary, send/message, transport
  async basic() {
    const out = {};
    const socket = connect("/", { auth: { token: "good" }, query: { q: "from-node" } });
    const welcome = next(socket, "welcome");
    await connected(socket);
    out.sid = socket.id;
    out.welcome = (await welcome)[0];

    const echoed = next(socket, "echo");
    out.echo_ack = await ack(socket, "echo", 1, "two", { three: [3, null, true] });
    out.echo_event = await echoed;

    const echoedOne = next(socket, "echo");
    out.echo_one_ack = await ack(socket, "echo", "single");
    out.echo_one_event = await echoedOne;

    const message = next(socket, "message");
    out.send_ack = await ack(socket, "message", "hello there");
    out.message = await message;

    out.no_ack_value = await ack(socket, "no ack value", 1);

    const binaryEvent = next(socket, "binary");
    out.binary_ack = await ack(socket, "binary",
      { a: Buffer.from([0, 1, 2, 255]), list: [Buffer.from("xyz"), { deep: Buffer.from([7]) }], text: "plain" });
    out.binary_event = await binaryEvent;

    // server -> client acks: emit(callback=) and call()
    socket.on("question", (data, reply) => reply("node answer", data));
    const answered = next(socket, "client answered");
    socket.emit("ask client", { n: 1 });
    out.client_answered = (await answered)[0];

    const callAnswered = next(socket, "call answered");
    out.call_ack = await ack(socket, "call client", { n: 2 });
    out.call_answered = (await callAnswered)[0];

    // no handler for 'ignored question' here, so no ack: the server's call() times out
    out.call_timeout_ack = await ack(socket, "call client timeout", { n: 3 });

    out.error_ack = await ack(socket, "boom", 5);

    out.transport = socket.io.engine.transport.name;
    socket.disconnect();
    return out;
  },

  async rejected() {
    const out = {};
    for (const [name, auth] of [["bad", { token: "bad" }], ["false", { token: "false" }]]) {
      const socket = connect("/", { auth });
      const err = await timeout(new Promise((resolve, reject) => {
        socket.once("connect_error", resolve);
        socket.once("connect", () => reject(new Error("connected although rejected")));
      }), "connect_error");
      out[name] = { message: err.message, data: err.data === undefined ? null : err.data,
                    connected: socket.connected };
      socket.close();
    }
    return out;
  },

  async rooms() {
    const out = {};
    const a = connect();
    const b = connect();
    const c = connect();
    await Promise.all([connected(a), connected(b), connected(c)]);
    out.a_rooms = await ack(a, "join", "lobby");
    out.b_rooms = await ack(b, "join", "lobby");
    out.ids = { a: a.id, b: b.id, c: c.id };
    const got = { a: [], b: [], c: [] };
    for (const [name, s] of Object.entries({ a, b, c })) s.on("room message", (m) => got[name].push(m));
    // A marker emitted to each socket after the room messages: Node handles events in order,
    // so once it arrives every earlier room message has been handled.
    const sync = async () => {
      for (const s of [a, b, c]) await ack(s, "echo", "sync");
    };
    a.emit("to room", { room: "lobby", msg: "with self", include_self: true });
    a.emit("to room", { room: "lobby", msg: "without self", include_self: false });
    a.emit("to room skip", { room: "lobby", msg: "skip b", skip: b.id });
    await sync();
    out.after_emits = JSON.parse(JSON.stringify(got));
    out.a_rooms_after_leave = await ack(a, "leave", "lobby");
    c.emit("to room", { room: "lobby", msg: "after leave", include_self: true });
    await sync();
    out.after_leave = JSON.parse(JSON.stringify(got));
    for (const s of [a, b, c]) s.disconnect();
    return out;
  },

  async namespaces() {
    const out = {};
    const root = connect("/");
    const other = connect("/other");
    const cls = connect("/class", { auth: { who: "node" } });
    const clsWelcome = next(cls, "welcome");
    await Promise.all([connected(root), connected(other), connected(cls)]);
    out.class_welcome = (await clsWelcome)[0];
    const otherEcho = next(other, "echo");
    out.other_ack = await ack(other, "echo", "hi other");
    out.other_echo = await otherEcho;
    const classEcho = next(cls, "echo");
    out.class_ack = await ack(cls, "echo", "hi class");
    out.class_echo = await classEcho;
    const bad = connect("/nope");
    const err = await timeout(new Promise((resolve, reject) => {
      bad.once("connect_error", resolve);
      bad.once("connect", () => reject(new Error("connected to /nope")));
    }), "connect_error on /nope");
    out.unknown_namespace_error = err.message;
    for (const s of [root, other, cls, bad]) s.disconnect();
    return out;
  },

  // the reason the server's disconnect handler gets
  async reasons() {
    const out = {};
    const observer = connect();
    const leaver = connect();
    const kicked = connect();
    await Promise.all([connected(observer), connected(leaver), connected(kicked)]);
    out.leaver_sid = leaver.id;
    out.kicked_sid = kicked.id;
    const logFor = async (sid) => {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const [log] = await ack(observer, "server log");
        const mine = log.filter((e) => e[1] === sid);
        if (mine.length || Date.now() > deadline) return mine;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    leaver.disconnect();
    out.leaver_log = await logFor(out.leaver_sid);
    const kickedReason = next(kicked, "disconnect");
    kicked.emit("kick me");
    out.kicked_reason = (await kickedReason)[0];
    out.kicked_log = await logFor(out.kicked_sid);
    observer.disconnect();
    return out;
  },

  // a handler that sleeps 2 s for one client does not delay another client
  async blocking() {
    const out = { order: [] };
    const a = connect();
    const b = connect();
    await Promise.all([connected(a), connected(b)]);
    const aSid = a.id;
    let aDisconnected = null;
    a.on("disconnect", (reason) => { aDisconnected = reason; });
    const slept = next(a, "slept").then(() => out.order.push("a slept"));
    a.emit("sleep", 2);
    out.b_echo = await ack(b, "echo", "fast");
    out.order.push("b echoed");
    await slept;
    out.a_connected_after = a.connected;
    out.a_disconnect_reason = aDisconnected;
    out.a_same_sid = a.id === aSid;
    out.a_echo_after = await ack(a, "echo", "still here");
    a.disconnect();
    b.disconnect();
    return out;
  },
};

await runScenario(scenarios, scenario);

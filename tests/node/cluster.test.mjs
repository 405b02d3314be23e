// A mixed cluster on one real redis-server: the chat test_server (`--redis`) and a socket.io 4.8
// server on Node's own @socket.io/redis-adapter 8.3 (createAdapter, node-redis clients), with
// socket.io-client clients on both, over websocket and polling. Every feature that spans servers
// is checked in each direction it has: broadcasts (all, a room, except a room, a socket id,
// binary and nested args, each received exactly once: a trailing marker from the same origin
// shows nothing else came), socketsJoin/Leave and disconnectSockets, fetchSockets, server-side
// emits with and without replies, broadcasts with acks, allRooms and serverCount; then Node's
// @socket.io/redis-emitter into both; then faults: redis-server killed and restarted on its
// port, a chat server (two shards) and a Node server frozen with their subscriptions left
// behind, then killed.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import http from "node:http";
import path from "node:path";
import {
  MODES,
  REPO_ROOT,
  RedisServer,
  WAIT_MS,
  connect,
  sleep,
  startServer,
  tracker,
  uniqueName,
  withTimeout,
} from "./support.mjs";

const require = createRequire(path.join(REPO_ROOT, "package.json"));
const { Server } = require("socket.io");
const { createAdapter } = require("@socket.io/redis-adapter");
const { Emitter } = require("@socket.io/redis-emitter");
const { createClient } = require("redis");

/** requestsTimeout of every server here (Node's option, test_server's --redis-requests-timeout). */
const REQUESTS_TIMEOUT_MS = 1000;
/** How long a server that lost redis-server may take to be back (chat's backoff reaches 5 s). */
const RECONNECT_MS = 30000;
const POLLING = MODES.find((m) => m.name === "polling");
const WEBSOCKET = MODES.find((m) => m.name === "websocket");
const CLOSE_REASONS = ["io server disconnect", "transport close"];

// ---- waiting, comparing, counting ----

/** Resolves with check()'s first truthy value; rejects, saying `what`, after `ms`. */
async function until(what, check, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await check();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${last}`);
    await sleep(20);
  }
}

/** A value with its byte strings made visible, so deepStrictEqual tells a Buffer from its JSON. */
function visible(value) {
  if (Buffer.isBuffer(value)) return { $buffer: value.toString("hex") };
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return { $notBuffer: Buffer.from(value).toString("hex") };
  if (Array.isArray(value)) return value.map(visible);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visible(v)]));
  return value;
}

/** What a test sends: binary at the top and deep down, nested objects and arrays. */
function payload(tag) {
  return {
    tag,
    bin: Buffer.from([0, 1, 2, 255]),
    deep: { list: [1.5, -7, 2 ** 40, "é€😀", null, true, { buf: Buffer.from("hi"), empty: {} }], none: [] },
  };
}

const tagOf = (value) => (Buffer.isBuffer(value) ? `bytes:${value.toString("hex")}` : value?.tag);

/** The args of every `event` the client got whose first arg carries `tag`. */
function received(client, event, tag) {
  return client.all(event).filter((args) => tagOf(args[0]) === tag);
}

/**
 * Sends a marker with `send(tag)` and waits until every client got it: a later message from
 * the same origin, so whatever the origin sent before has arrived by then.
 */
async function marker(clients, send) {
  const tag = uniqueName("marker");
  await send(tag);
  await Promise.all(
    clients.map((c) =>
      until(`${c.label} receiving the marker ${tag}: ${c.describeLog()}`, () => received(c, "broadcast", tag).length > 0),
    ),
  );
  for (const c of clients) assert.equal(received(c, "broadcast", tag).length, 1, `${c.label}: the marker once`);
}

/** Each row {event, args, to}: exactly the clients in `to` got `args` as `event`, once each. */
function assertDeliveries(clients, rows) {
  for (const { event, args, to } of rows) {
    for (const c of clients) {
      const got = received(c, event, tagOf(args[0]));
      const where = `${c.label}: "${event}" ${tagOf(args[0])}; received: ${c.describeLog()}`;
      assert.equal(got.length, to.includes(c) ? 1 : 0, where);
      if (got.length) assert.deepStrictEqual(visible(got[0]), visible(args), where);
    }
  }
}

/** Ids of a list of fetched sockets, sorted. */
const idsOf = (sockets) => sockets.map((s) => s.id).sort();

// ---- the servers ----

/**
 * A socket.io server on @socket.io/redis-adapter with the test_server handlers the tests use on
 * both servers, and listeners for the server-side emits the tests send it.
 */
async function startNodeServer(redisUrl) {
  const pub = createClient({ url: redisUrl, socket: { reconnectStrategy: (retries) => Math.min(50 * (retries + 1), 500) } });
  const sub = pub.duplicate();
  for (const client of [pub, sub]) client.on("error", () => {}); // while redis-server is away; they come back by themselves
  await Promise.all([pub.connect(), sub.connect()]);
  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createAdapter(pub, sub, { requestsTimeout: REQUESTS_TIMEOUT_MS }) });
  for (const nsp of ["/", "/custom"]) {
    io.of(nsp).on("connection", (socket) => {
      socket.on("message-with-ack", (...args) => args.pop()(...args));
      socket.on("join", (room, ack) => {
        socket.join(room);
        ack([...socket.rooms].sort());
      });
      socket.on("rooms", (ack) => ack([...socket.rooms].sort()));
      socket.on("set-data", (value, ack) => {
        socket.data = value;
        ack();
      });
    });
  }
  const heard = []; // server-side emits received: [event, ...args]
  for (const event of ["chat-says", "emitter-says"]) io.on(event, (...args) => heard.push([event, ...args]));
  io.on("chat-asks", (...args) => {
    const reply = args.pop();
    heard.push(["chat-asks", ...args]);
    reply({ node: args });
  });
  await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
  return {
    io,
    heard,
    url: `http://127.0.0.1:${httpServer.address().port}`,
    /** Node's own count (PUBSUB NUMSUB), bounded: its command waits while redis-server is away. */
    serverCount: (nsp = "/") => withTimeout(io.of(nsp).adapter.serverCount(), WAIT_MS, "Node's serverCount"),
    socket: (id, nsp = "/") => io.of(nsp).sockets.get(id),
    async close() {
      await withTimeout(io.close(), WAIT_MS, "closing the Node server").catch(() => {});
      // quit, not disconnect: the adapter's unsubscribes still wait for their replies.
      await Promise.all([pub, sub].map((client) => withTimeout(client.quit(), WAIT_MS, "node-redis quitting").catch(() => client.disconnect().catch(() => {}))));
    },
  };
}

let redis, chat, node, emitterClient;

/** `server-count` as the chat server answers it. */
async function chatServerCount(client) {
  const [count] = await client.ack("server-count");
  return count;
}

before(async () => {
  redis = await RedisServer.start(); // fails, naming scripts/setup, without redis-server
  chat = await startServer(["--redis", redis.url, "--redis-requests-timeout", String(REQUESTS_TIMEOUT_MS)]);
  node = await startNodeServer(redis.url);
  emitterClient = createClient({ url: redis.url });
  emitterClient.on("error", () => {});
  await emitterClient.connect();
  // Both subscribed: each counts two servers.
  const probe = connect(chat.url, WEBSOCKET);
  try {
    await probe.ready();
    await until("chat counting two servers", async () => (await chatServerCount(probe)) === 2);
    await until("Node counting two servers", async () => (await node.serverCount()) === 2);
  } finally {
    probe.close();
  }
});

after(async () => {
  await node?.close();
  await emitterClient?.disconnect().catch(() => {});
  await chat?.stop();
  await redis?.kill("SIGTERM");
});

/**
 * Four clients, one per server and transport (chat-ws, chat-polling, node-ws, node-polling),
 * each answering `question` with {from, got}; resolves once the cluster holds exactly these
 * four sockets (those of earlier tests gone).
 */
async function four(t, { nsp = "/" } = {}) {
  const tr = tracker(t);
  const specs = [
    ["chat-ws", chat.url, WEBSOCKET],
    ["chat-polling", chat.url, POLLING],
    ["node-ws", node.url, WEBSOCKET],
    ["node-polling", node.url, POLLING],
  ];
  const clients = await Promise.all(
    specs.map(([label, url, mode]) => {
      const c = tr.add(connect(url, mode, { nsp, auth: { token: label }, query: { who: label }, extraHeaders: { "x-who": label } }));
      c.label = label;
      c.socket.on("question", (...args) => args.pop()({ from: label, got: args }));
      return c.ready();
    }),
  );
  const ids = clients.map((c) => c.id).sort();
  await until(`the cluster holding just ${ids}`, async () => {
    const [sockets] = await clients[0].ack("fetch-sockets", null);
    return JSON.stringify(idsOf(sockets)) === JSON.stringify(ids);
  });
  return clients;
}

// ---- the cluster at work ----

describe("a mixed cluster: chat and Node's socket.io on one redis-server", () => {
  it("chat's broadcasts reach every client of both servers once: all, a room, except a room, a socket id, binary and nested args", async (t) => {
    const clients = await four(t);
    const [cw, cp, nw, np] = clients;
    const room = uniqueName("room");
    await cw.ack("join", room);
    await nw.ack("join", room);

    const bytes = Buffer.from([9, 8, 7, 0]);
    const big = Buffer.alloc(300 * 1024, 0xa5); // larger than any one read of a Redis connection
    big.write("big-from-chat");
    await cp.ack("broadcast-all", payload("all"));
    await cp.ack("broadcast-all", big);
    await cw.ack("to-room-except-me", room, payload("room-but-me"));
    await cp.ack("broadcast-all", bytes);
    await cp.ack("to-room", room, payload("room"));
    await cp.ack("except-room", room, payload("except"));
    await cp.ack("to-socket", nw.id, payload("to-node-socket"));
    await cp.ack("to-socket", np.id, bytes);
    await cp.ack("to-socket", cw.id, payload("to-chat-socket"));
    await cp.ack("broadcast", payload("others"));
    await marker(clients, (tag) => cp.ack("broadcast-all", { tag }));

    assertDeliveries(clients, [
      { event: "broadcast", args: [payload("all")], to: clients },
      { event: "broadcast", args: [bytes], to: clients },
      { event: "broadcast", args: [big], to: clients },
      { event: "room-message", args: [payload("room-but-me")], to: [nw] },
      { event: "room-message", args: [payload("room")], to: [cw, nw] },
      { event: "except-message", args: [payload("except")], to: [cp, np] },
      { event: "direct", args: [payload("to-node-socket")], to: [nw] },
      { event: "direct", args: [bytes], to: [np] },
      { event: "direct", args: [payload("to-chat-socket")], to: [cw] },
      { event: "broadcast", args: [payload("others")], to: [cw, nw, np] },
    ]);
  });

  it("Node's broadcasts reach every client of both servers once: all, rooms, except a room, a socket id, several binary args", async (t) => {
    const clients = await four(t);
    const [cw, cp, nw, np] = clients;
    const room = uniqueName("room");
    const other = uniqueName("other");
    await cp.ack("join", room);
    await np.ack("join", room);
    await cw.ack("join", other);

    const io = node.io;
    const several = [payload("several"), Buffer.from([1]), Buffer.alloc(0), 42, "text", [Buffer.from([2, 3])], null];
    const big = Buffer.alloc(300 * 1024, 0x5a);
    big.write("big-from-node");
    io.emit("broadcast", payload("all"));
    io.emit("broadcast", big);
    io.emit("multi", ...several);
    io.to(room).emit("room-message", payload("room")); // one room: its own channel
    io.to([room, other]).emit("room-message", payload("two-rooms")); // two: the namespace's channel
    io.except(room).emit("except-message", payload("except"));
    io.to(room).except(cp.id).emit("room-message", payload("room-but-one"));
    io.to(cw.id).emit("direct", payload("to-chat-socket"));
    io.to(cp.id).emit("direct", Buffer.from([5, 6]));
    node.socket(np.id).broadcast.emit("broadcast", payload("others"));
    node.socket(nw.id).to(room).emit("room-message", payload("from-socket-to-room"));
    await marker(clients, (tag) => io.emit("broadcast", { tag }));

    assertDeliveries(clients, [
      { event: "broadcast", args: [payload("all")], to: clients },
      { event: "broadcast", args: [big], to: clients },
      { event: "multi", args: several, to: clients },
      { event: "room-message", args: [payload("room")], to: [cp, np] },
      { event: "room-message", args: [payload("two-rooms")], to: [cw, cp, np] },
      { event: "except-message", args: [payload("except")], to: [cw, nw] },
      { event: "room-message", args: [payload("room-but-one")], to: [np] },
      { event: "direct", args: [payload("to-chat-socket")], to: [cw] },
      { event: "direct", args: [Buffer.from([5, 6])], to: [cp] },
      { event: "broadcast", args: [payload("others")], to: [cw, cp, nw] },
      { event: "room-message", args: [payload("from-socket-to-room")], to: [cp, np] },
    ]);
  });

  it("Node's socketsJoin, socketsLeave and disconnectSockets reach chat's sockets", async (t) => {
    const clients = await four(t);
    const [cw, cp, nw, np] = clients;
    const selector = uniqueName("selector");
    const joined = uniqueName("joined");
    await cw.ack("join", selector);
    await nw.ack("join", selector);
    const hasRoom = async (c, r) => (await c.ack("rooms"))[0].includes(r);

    node.io.in(selector).socketsJoin([joined, "second-" + joined]);
    await until(`chat's ${cw.id} joining ${joined}`, async () => (await hasRoom(cw, joined)) && hasRoom(cw, "second-" + joined));
    await until(`Node's ${nw.id} joining ${joined}`, () => hasRoom(nw, joined));
    // Joined first, then reached through the room: Redis keeps one publisher's order.
    node.io.in(selector).socketsJoin(joined + "-then");
    node.io.to(joined + "-then").emit("room-message", payload("after-join"));
    await until(`chat's ${cw.id} receiving "after-join"`, () => received(cw, "room-message", "after-join").length === 1);
    assert.equal(await hasRoom(cp, joined), false);
    assert.equal(await hasRoom(np, joined), false);

    node.io.in(selector).socketsLeave(joined);
    await until(`chat's ${cw.id} leaving ${joined}`, async () => !(await hasRoom(cw, joined)));
    await until(`Node's ${nw.id} leaving ${joined}`, async () => !(await hasRoom(nw, joined)));
    assert.equal(await hasRoom(cw, "second-" + joined), true);

    node.io.in(selector).disconnectSockets();
    assert.equal((await cw.next("disconnect"))[0], "io server disconnect");
    assert.equal((await nw.next("disconnect"))[0], "io server disconnect");
    node.io.in(cp.id).disconnectSockets(true); // the whole connection
    assert.ok(CLOSE_REASONS.includes((await cp.next("disconnect"))[0]));
    await np.ack("message-with-ack", "still here");
    assert.deepEqual(np.all("disconnect"), []);
  });

  it("chat's sockets-join, sockets-leave and disconnect-sockets reach Node's sockets", async (t) => {
    const clients = await four(t);
    const [cw, cp, nw, np] = clients;
    const selector = uniqueName("selector");
    const joined = uniqueName("joined");
    await cp.ack("join", selector);
    await np.ack("join", selector);
    const nodeRooms = (c) => [...(node.socket(c.id)?.rooms ?? [])];

    assert.deepEqual(await cw.ack("sockets-join", selector, joined), []);
    await until(`Node's ${np.id} joining ${joined}`, () => nodeRooms(np).includes(joined));
    assert.ok((await cp.ack("rooms"))[0].includes(joined));
    assert.ok(!nodeRooms(nw).includes(joined));
    assert.ok(!(await cw.ack("rooms"))[0].includes(joined));
    // Joined first, then reached through the room, from chat too.
    await cw.ack("sockets-join", selector, joined + "-then");
    await cw.ack("to-room", joined + "-then", payload("after-join"));
    await until(`Node's ${np.id} receiving "after-join"`, () => received(np, "room-message", "after-join").length === 1);

    await cw.ack("sockets-leave", selector, joined);
    await until(`Node's ${np.id} leaving ${joined}`, () => !nodeRooms(np).includes(joined));
    assert.ok(!(await cp.ack("rooms"))[0].includes(joined));

    await cw.ack("disconnect-sockets", selector, false);
    assert.equal((await np.next("disconnect"))[0], "io server disconnect");
    assert.equal((await cp.next("disconnect"))[0], "io server disconnect");
    await cw.ack("disconnect-sockets", nw.id, true); // the whole connection
    assert.ok(CLOSE_REASONS.includes((await nw.next("disconnect"))[0]));
    await withTimeout(
      new Promise((resolve) => (nw.engine.readyState === "closed" ? resolve() : nw.engine.once("close", resolve))),
      WAIT_MS,
      "Node closing the connection",
    );
    await cw.fence();
    assert.deepEqual(cw.all("disconnect"), []);
  });

  it("Node's fetchSockets sees chat's sockets (id, rooms, data, handshake) and acts on them", async (t) => {
    const clients = await four(t);
    const [cw, cp, nw, np] = clients;
    const room = uniqueName("room");
    await cw.ack("join", room);
    await np.ack("join", room);
    const data = { name: "chat-ws", n: 1.5, list: [1, "two", null, { three: true }] };
    await cw.ack("set-data", data);
    await np.ack("set-data", { name: "node-polling" });

    const all = await node.io.fetchSockets();
    assert.deepEqual(idsOf(all), clients.map((c) => c.id).sort());
    const theirs = all.find((s) => s.id === cw.id);
    assert.deepEqual([...theirs.rooms].sort(), [cw.id, room].sort());
    assert.deepStrictEqual(theirs.data, data);
    const { handshake } = theirs;
    assert.deepStrictEqual(handshake.auth, { token: "chat-ws" });
    assert.equal(handshake.query.who, "chat-ws");
    assert.equal(handshake.query.EIO, "4");
    assert.equal(handshake.query.transport, "websocket");
    assert.equal(handshake.headers["x-who"], "chat-ws");
    assert.match(handshake.address, /127\.0\.0\.1/);
    assert.match(handshake.url, /^\/socket\.io\/\?/);
    assert.equal(typeof handshake.issued, "number");
    assert.ok(Math.abs(Date.parse(handshake.time) - handshake.issued) < 1000, `time ${handshake.time} is issued ${handshake.issued}`);
    assert.equal(handshake.secure, false);
    assert.equal(typeof handshake.xdomain, "boolean");
    const polling = all.find((s) => s.id === cp.id);
    assert.equal(polling.handshake.query.transport, "polling");
    assert.deepStrictEqual(polling.data, null); // test_server's sockets start with no data

    const inRoom = await node.io.in(room).fetchSockets();
    assert.deepEqual(idsOf(inRoom), [cw.id, np.id].sort());
    assert.deepStrictEqual(inRoom.find((s) => s.id === np.id).data, { name: "node-polling" });

    // Binary data crosses as JSON, as between Node servers: a Buffer's toJSON.
    await cp.ack("set-data", { bin: Buffer.from([1, 2, 255]) });
    const [withBinary] = await node.io.in(cp.id).fetchSockets();
    assert.deepStrictEqual(withBinary.data, { bin: { type: "Buffer", data: [1, 2, 255] } });

    // A remote socket acts through the cluster.
    theirs.emit("direct", payload("remote-emit"));
    await until(`chat's ${cw.id} receiving "remote-emit"`, () => received(cw, "direct", "remote-emit").length === 1);
    const extra = uniqueName("remote-join");
    theirs.join(extra);
    await until(`chat's ${cw.id} joining ${extra}`, async () => (await cw.ack("rooms"))[0].includes(extra));
    theirs.leave(extra);
    await until(`chat's ${cw.id} leaving ${extra}`, async () => !(await cw.ack("rooms"))[0].includes(extra));
    theirs.disconnect();
    assert.equal((await cw.next("disconnect"))[0], "io server disconnect");
    for (const c of [cp, nw, np]) assert.deepEqual(c.all("disconnect"), [], c.label);
  });

  it("chat's fetch-sockets sees Node's sockets, with their data", async (t) => {
    const clients = await four(t);
    const [cw, cp, nw, np] = clients;
    const room = uniqueName("room");
    await nw.ack("join", room);
    await cp.ack("join", room);
    const data = { name: "node-ws", bin: "no binary in JSON", nested: { list: [1, 2.5, "x", null, false] } };
    await nw.ack("set-data", data);

    const [all] = await cw.ack("fetch-sockets", null);
    assert.deepEqual(idsOf(all), clients.map((c) => c.id).sort());
    const theirs = all.find((s) => s.id === nw.id);
    assert.deepEqual(theirs.rooms.sort(), [nw.id, room].sort());
    assert.deepStrictEqual(theirs.data, data);
    assert.deepStrictEqual(theirs.auth, { token: "node-ws" });
    assert.match(theirs.address, /127\.0\.0\.1/);
    const query = Object.fromEntries(theirs.query); // pairs, in order
    assert.equal(query.who, "node-ws");
    assert.equal(query.transport, "websocket");
    assert.equal(query.EIO, "4");
    assert.equal(Object.fromEntries(all.find((s) => s.id === np.id).query).transport, "polling");

    const [inRoom] = await cw.ack("fetch-sockets", room);
    assert.deepEqual(idsOf(inRoom), [cp.id, nw.id].sort());
    const [none] = await cw.ack("fetch-sockets", uniqueName("empty"));
    assert.deepEqual(none, []);
  });

  it("chat's server-side emits reach Node's listeners, with and without replies", async (t) => {
    const [cw] = await four(t);
    const tag = uniqueName("sse");
    node.heard.length = 0;
    assert.deepEqual(await cw.ack("server-side-emit", 0, "chat-says", tag, { nested: { list: [1, "x", null] } }, 2.5), []);
    await until("Node hearing chat-says", () => node.heard.length === 1);
    assert.deepStrictEqual(node.heard[0], ["chat-says", tag, { nested: { list: [1, "x", null] } }, 2.5]);

    const [error, replies] = await cw.ack("server-side-emit", 2000, "chat-asks", tag, { n: 1 });
    assert.equal(error, false);
    assert.deepStrictEqual(replies, [[{ node: [tag, { n: 1 }] }]]);
    await cw.fence();
    assert.equal(node.heard.length, 2);

    // Binary crosses as JSON, as between Node servers (whose requests are JSON.stringify'd).
    await cw.ack("server-side-emit", 0, "chat-says", tag, Buffer.from([7, 0, 255]));
    await until("Node hearing binary", () => node.heard.length === 3);
    assert.deepStrictEqual(node.heard[2], ["chat-says", tag, { type: "Buffer", data: [7, 0, 255] }]);
  });

  it("Node's server-side emits reach chat, with and without replies", async (t) => {
    const [cw] = await four(t);
    const tag = uniqueName("sse");
    const heardByChat = async () =>
      (await cw.ack("server-side-emits"))[0].filter((entry) => entry.includes(tag)).map((entry) => {
        const [nsp, event] = entry.split(" ", 2);
        return [nsp, event, JSON.parse(entry.slice(nsp.length + event.length + 2))];
      });

    node.io.serverSideEmit("node-says", tag, { k: [1, 2, { deep: "yes" }] }, null);
    await until("chat hearing node-says", async () => (await heardByChat()).length === 1);
    assert.deepStrictEqual(await heardByChat(), [["/", "node-says", [tag, { k: [1, 2, { deep: "yes" }] }, null]]]);

    assert.deepStrictEqual(await node.io.serverSideEmitWithAck("node-asks", tag, 1), ["chat"]); // only the first arg crosses
    const [error, responses] = await withTimeout(
      new Promise((resolve) => node.io.serverSideEmit("node-asks-too", tag, (err, res) => resolve([err, res]))),
      WAIT_MS,
      "Node's serverSideEmit callback",
    );
    assert.equal(error, null);
    assert.deepStrictEqual(responses, ["chat"]);
    const heard = await heardByChat();
    assert.deepStrictEqual(heard.map(([, event]) => event), ["node-says", "node-asks", "node-asks-too"]);
    assert.deepStrictEqual(heard[1][2], [tag, 1]);
  });

  it("broadcasts with acks gather the answers of the clients of both servers", async (t) => {
    const clients = await four(t);
    const [cw, cp, nw] = clients;
    const labels = clients.map((c) => c.label).sort();
    const question = [Buffer.from([7, 7]), { n: 1, list: ["a", null] }];

    // From Node: its own clients' answers and chat's (binary back through Redis, notepack).
    const [error, responses] = await withTimeout(
      new Promise((resolve) => node.io.timeout(2000).emit("question", ...question, (err, res) => resolve([err, res]))),
      WAIT_MS,
      "Node's broadcast with acks",
    );
    assert.equal(error, null);
    assert.deepEqual(responses.map((r) => r.from).sort(), labels);
    for (const r of responses) assert.deepStrictEqual(visible(r.got), visible(question), r.from);
    const inRoom = uniqueName("room");
    await cw.ack("join", inRoom);
    await nw.ack("join", inRoom);
    const roomAnswers = await node.io.to(inRoom).timeout(2000).emitWithAck("question", "room only");
    assert.deepEqual(roomAnswers.map((r) => r.from).sort(), ["chat-ws", "node-ws"]);
    // chat counts none of its clients in these: Node waits for that count, not for its timeout.
    const nodeOnly = uniqueName("node-only");
    await nw.ack("join", nodeOnly);
    assert.deepEqual((await node.io.to(nodeOnly).timeout(2000).emitWithAck("question", 1)).map((r) => r.from), ["node-ws"]);
    assert.deepEqual(await node.io.to(uniqueName("nobody")).timeout(2000).emitWithAck("question", 1), []);

    // From chat: every client's answer, Node's through Redis.
    const [chatError, answers] = await cp.ack("ask-all", 2000, ...question);
    assert.equal(chatError, false);
    assert.deepEqual(answers.map((a) => a[0].from).sort(), labels);
    for (const [answer] of answers) assert.deepStrictEqual(visible(answer.got), visible(question), answer.from);
  });

  it("allRooms and serverCount agree on both servers", async (t) => {
    const [cw, cp, nw] = await four(t);
    const chatRoom = uniqueName("chat-room");
    const nodeRoom = uniqueName("node-room");
    await cw.ack("join", chatRoom);
    await nw.ack("join", nodeRoom);

    const nodeSees = await node.io.of("/").adapter.allRooms();
    assert.ok(nodeSees.has(chatRoom) && nodeSees.has(nodeRoom) && nodeSees.has(cp.id), [...nodeSees].join(" "));
    const [chatSees] = await cp.ack("all-rooms");
    for (const room of [chatRoom, nodeRoom, cw.id, nw.id]) assert.ok(chatSees.includes(room), `${room} in ${chatSees}`);
    assert.equal(new Set(chatSees).size, chatSees.length, "each room once");

    assert.equal(await node.serverCount(), 2);
    assert.equal(await chatServerCount(cp), 2);
  });

  it("namespaces stay apart: /custom's broadcasts, counts and fetches span both servers and reach no one on /", async (t) => {
    const clients = await four(t, { nsp: "/custom" });
    const [cw, cp] = clients;
    const tr = tracker(t);
    const onRoot = [tr.add(connect(chat.url, WEBSOCKET)), tr.add(connect(node.url, POLLING))];
    onRoot[0].label = "chat-root";
    onRoot[1].label = "node-root";
    await Promise.all(onRoot.map((c) => c.ready()));

    await cp.ack("broadcast-all", payload("custom-from-chat"));
    node.io.of("/custom").emit("broadcast", payload("custom-from-node"));
    await marker(clients, (tag) => cw.ack("broadcast-all", { tag }));
    await marker(clients, (tag) => node.io.of("/custom").emit("broadcast", { tag }));
    // Markers on / from the same origins: what went to /custom would have come before them.
    await marker(onRoot, (tag) => onRoot[0].ack("broadcast-all", { tag }));
    await marker(onRoot, (tag) => node.io.emit("broadcast", { tag }));
    assertDeliveries([...clients, ...onRoot], [
      { event: "broadcast", args: [payload("custom-from-chat")], to: clients },
      { event: "broadcast", args: [payload("custom-from-node")], to: clients },
    ]);

    assert.equal(await chatServerCount(cw), 2);
    assert.equal(await node.serverCount("/custom"), 2);
    const ids = clients.map((c) => c.id).sort();
    assert.deepEqual(idsOf((await cw.ack("fetch-sockets", null))[0]), ids);
    assert.deepEqual(idsOf(await node.io.of("/custom").fetchSockets()), ids);
  });

  it("Node's redis-emitter reaches the clients of both servers: emit, to and except rooms, binary, socketsJoin/Leave, disconnectSockets, serverSideEmit", async (t) => {
    const clients = await four(t);
    const [cw, cp, nw, np] = clients;
    const room = uniqueName("room");
    await cw.ack("join", room);
    await nw.ack("join", room);
    const emitter = new Emitter(emitterClient);

    emitter.emit("broadcast", payload("emitter-all"));
    emitter.emit("multi", payload("emitter-several"), Buffer.from([1, 2]), 3);
    emitter.to(room).emit("room-message", payload("emitter-room"));
    emitter.except(room).emit("except-message", payload("emitter-except"));
    emitter.to(np.id).emit("direct", payload("emitter-direct"));
    emitter.to(room).compress(false).emit("room-message", Buffer.from([0xbe, 0xef]));
    await marker(clients, (tag) => emitter.emit("broadcast", { tag }));
    assertDeliveries(clients, [
      { event: "broadcast", args: [payload("emitter-all")], to: clients },
      { event: "multi", args: [payload("emitter-several"), Buffer.from([1, 2]), 3], to: clients },
      { event: "room-message", args: [payload("emitter-room")], to: [cw, nw] },
      { event: "except-message", args: [payload("emitter-except")], to: [cp, np] },
      { event: "direct", args: [payload("emitter-direct")], to: [np] },
      { event: "room-message", args: [Buffer.from([0xbe, 0xef])], to: [cw, nw] },
    ]);

    const joined = uniqueName("joined");
    const hasRoom = async (c, r) => (await c.ack("rooms"))[0].includes(r);
    emitter.in(room).socketsJoin(joined);
    await until(`${cw.label} joining ${joined}`, () => hasRoom(cw, joined));
    await until(`${nw.label} joining ${joined}`, () => hasRoom(nw, joined));
    assert.equal(await hasRoom(cp, joined), false);
    emitter.in(room).socketsLeave(joined);
    await until(`${cw.label} leaving ${joined}`, async () => !(await hasRoom(cw, joined)));
    await until(`${nw.label} leaving ${joined}`, async () => !(await hasRoom(nw, joined)));

    const tag = uniqueName("emitted");
    node.heard.length = 0;
    emitter.serverSideEmit("emitter-says", tag, { x: [1] });
    await until("Node hearing the emitter", () => node.heard.length === 1);
    assert.deepStrictEqual(node.heard[0], ["emitter-says", tag, { x: [1] }]);
    await until("chat hearing the emitter", async () =>
      (await cw.ack("server-side-emits"))[0].includes(`/ emitter-says ${JSON.stringify([tag, { x: [1] }])}`),
    );

    emitter.in(room).disconnectSockets();
    assert.equal((await cw.next("disconnect"))[0], "io server disconnect");
    assert.equal((await nw.next("disconnect"))[0], "io server disconnect");
    await cp.fence();
    await np.ack("message-with-ack", "still here");
    assert.deepEqual([...cp.all("disconnect"), ...np.all("disconnect")], []);
  });

  it("chat's emitter (Python's write-only SocketIO over chat::redis::Emitter) reaches the clients of both servers", async (t) => {
    const clients = await four(t);
    const [cw, cp, nw, np] = clients;
    const room = uniqueName("room");
    await cp.ack("join", room);
    await np.ack("join", room);
    const python = process.env.CHAT_PYTHON || path.join(REPO_ROOT, ".venv", "bin", "python");
    // A worker as Flask-SocketIO apps write one: each call returns once Redis has the message.
    const script = [
      "import sys",
      "from chat import SocketIO",
      "worker = SocketIO(message_queue=sys.argv[1])",
      "worker.emit('broadcast', {'tag': 'py-all'})",
      "worker.emit('room-message', {'tag': 'py-room'}, to=sys.argv[2])",
      "worker.emit('multi', {'tag': 'py-binary'}, b'\\x01\\x02')",
      "worker.close_room(sys.argv[2])",
      "worker.emit('room-message', {'tag': 'py-after-close'}, to=sys.argv[2])",
    ].join("\n");
    const worker = spawn(python, ["-c", script, redis.url, room], { stdio: ["ignore", "inherit", "inherit"] });
    const status = await withTimeout(new Promise((resolve) => worker.on("exit", resolve)), WAIT_MS, "the Python worker");
    assert.equal(status, 0);
    // After them on Redis (the worker has exited): once it is everywhere, so is what came before.
    await marker(clients, (tag) => new Emitter(emitterClient).emit("broadcast", { tag }));
    assertDeliveries(clients, [
      { event: "broadcast", args: [{ tag: "py-all" }], to: clients },
      { event: "room-message", args: [{ tag: "py-room" }], to: [cp, np] },
      { event: "multi", args: [{ tag: "py-binary" }, Buffer.from([1, 2])], to: clients },
      { event: "room-message", args: [{ tag: "py-after-close" }], to: [] },
    ]);
  });

  it("chat dropped none of the messages as malformed and failed no request", async (t) => {
    const [cw] = await four(t);
    const [errors] = await cw.ack("errors");
    assert.deepEqual(errors.filter((e) => /redis/.test(e)), []);
  });
});

// ---- faults ----

describe("a mixed cluster survives faults", () => {
  it("redis-server killed and restarted on its port: each server delivers to its own clients meanwhile, then across again", async (t) => {
    const clients = await four(t);
    const [cw, cp, nw, np] = clients;

    await redis.kill("SIGKILL");
    // Alone, chat answers from here without waiting for the cluster.
    await until("chat counting itself alone", async () => (await chatServerCount(cw)) === 1);
    const [alone] = await cw.ack("fetch-sockets", null);
    assert.deepEqual(idsOf(alone), [cw.id, cp.id].sort());
    await cp.ack("broadcast-all", payload("chat-while-down"));
    node.io.emit("broadcast", payload("node-while-down"));
    for (const c of [cw, cp])
      await until(`${c.label} receiving chat's broadcast while Redis is down`, () => received(c, "broadcast", "chat-while-down").length === 1);
    for (const c of [nw, np])
      await until(`${c.label} receiving Node's broadcast while Redis is down`, () => received(c, "broadcast", "node-while-down").length === 1);

    await redis.start();
    await until("chat counting two servers again", async () => (await chatServerCount(cw)) === 2, RECONNECT_MS);
    await until("Node counting two servers again", async () => (await node.serverCount()) === 2, RECONNECT_MS);

    await cp.ack("broadcast-all", payload("chat-after"));
    node.io.emit("broadcast", payload("node-after"));
    await marker(clients, (tag) => cw.ack("broadcast-all", { tag }));
    await marker(clients, (tag) => node.io.emit("broadcast", { tag }));
    assertDeliveries(clients, [
      { event: "broadcast", args: [payload("chat-after")], to: clients },
      { event: "broadcast", args: [payload("node-after")], to: clients },
    ]);
    const [all] = await cw.ack("fetch-sockets", null);
    assert.deepEqual(idsOf(all), clients.map((c) => c.id).sort());

    // Said once each, in order, through the server's error hook.
    const [errors] = await cw.ack("errors");
    const said = errors.filter((e) => /^redis: /.test(e));
    assert.ok(said.length >= 2 && /lost/.test(said[0]) && /is back/.test(said[said.length - 1]), JSON.stringify(said));
  });

  it("a chat server of two shards that stops answering costs Node's requests at most the timeout; killed, it is no longer counted", async (t) => {
    const clients = await four(t);
    const [cw, , nw] = clients;
    const frozen = await startServer(["--shards", "2", "--redis", redis.url, "--redis-requests-timeout", String(REQUESTS_TIMEOUT_MS)]);
    t.after(() => frozen.child.kill("SIGKILL"));
    const tr = tracker(t);
    const far = tr.add(connect(frozen.url, WEBSOCKET));
    await far.ready();
    await until("Node counting three servers", async () => (await node.serverCount()) === 3);
    const everyone = [...clients.map((c) => c.id), far.id].sort();
    assert.deepEqual(idsOf(await node.io.fetchSockets()), everyone);

    frozen.child.kill("SIGSTOP"); // its subscriptions stay; nothing answers
    await assert.rejects(
      withTimeout(node.io.fetchSockets(), REQUESTS_TIMEOUT_MS + WAIT_MS, "Node's fetchSockets"),
      /timeout reached while waiting for fetchSockets response/,
    );
    await assert.rejects(
      withTimeout(node.io.serverSideEmitWithAck("node-asks", "anyone?"), REQUESTS_TIMEOUT_MS + WAIT_MS, "Node's serverSideEmitWithAck"),
      (err) => /timeout reached: only 1 responses received out of 2/.test(err.message) && err.responses[0] === "chat",
    );
    // The live chat server goes on with what came.
    const [withoutFrozen] = await cw.ack("fetch-sockets", null);
    assert.deepEqual(idsOf(withoutFrozen), clients.map((c) => c.id).sort());
    const [error, replies] = await cw.ack("server-side-emit", 2000, "chat-asks", "anyone?");
    assert.equal(error, true);
    assert.deepStrictEqual(replies, [[{ node: ["anyone?"] }]]);

    frozen.child.kill("SIGKILL");
    await until("Node counting two servers", async () => (await node.serverCount()) === 2);
    assert.deepEqual(idsOf(await node.io.fetchSockets()), clients.map((c) => c.id).sort());
    assert.deepStrictEqual(await node.io.serverSideEmitWithAck("node-asks", "anyone?"), ["chat"]);
    await nw.ack("message-with-ack", "still here");
  });

  it("a Node server that stops answering costs chat's requests at most the timeout; killed, it is no longer counted", async (t) => {
    const clients = await four(t);
    const [cw, cp] = clients;
    const peerSource = path.join(path.dirname(fileURLToPath(import.meta.url)), "node_cluster_peer.mjs");
    const peer = spawn(process.execPath, [peerSource, redis.url], { stdio: ["ignore", "pipe", "inherit"] });
    t.after(() => peer.kill("SIGKILL"));
    let out = "";
    peer.stdout.setEncoding("utf8");
    const port = await withTimeout(
      new Promise((resolve, reject) => {
        peer.stdout.on("data", (d) => {
          out += d;
          const m = /LISTENING (\d+)/.exec(out);
          if (m) resolve(Number(m[1]));
        });
        peer.on("exit", (code) => reject(new Error(`the Node peer exited with ${code}: ${out}`)));
      }),
      10000,
      "the Node peer listening",
    );
    const tr = tracker(t);
    const far = tr.add(connect(`http://127.0.0.1:${port}`, WEBSOCKET));
    await far.ready();
    await until("chat counting three servers", async () => (await chatServerCount(cw)) === 3);
    const everyone = [...clients.map((c) => c.id), far.id].sort();
    await until("chat's fetch-sockets seeing the peer's socket", async () =>
      JSON.stringify(idsOf((await cw.ack("fetch-sockets", null))[0])) === JSON.stringify(everyone),
    );

    peer.kill("SIGSTOP");
    const [withoutPeer] = await cw.ack("fetch-sockets", null);
    assert.deepEqual(idsOf(withoutPeer), clients.map((c) => c.id).sort());
    const [rooms] = await cw.ack("all-rooms");
    assert.ok(!rooms.includes("peer-room") && rooms.includes(cp.id), JSON.stringify(rooms));
    const [error, replies] = await cw.ack("server-side-emit", 2000, "chat-asks", "anyone?");
    assert.equal(error, true);
    assert.deepStrictEqual(replies, [[{ node: ["anyone?"] }]]);
    const [askError, answers] = await cp.ack("ask-all", 1500, "who?");
    assert.equal(askError, true); // the frozen server never said how many clients it asked
    assert.deepEqual(answers.map((a) => a[0].from).sort(), clients.map((c) => c.label).sort());

    peer.kill("SIGKILL");
    await until("chat counting two servers", async () => (await chatServerCount(cw)) === 2);
    const [after] = await cw.ack("fetch-sockets", null);
    assert.deepEqual(idsOf(after), clients.map((c) => c.id).sort());
    const [askAgain, answersAgain] = await cp.ack("ask-all", 2000, "who?");
    assert.equal(askAgain, false);
    assert.equal(answersAgain.length, 4);
  });
});

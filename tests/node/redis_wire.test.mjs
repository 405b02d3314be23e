// The Redis wire codec (chat/redis/detail/wire.hpp) held against the Node code it must speak
// with, not against our reading of it: notepack.io 3.0.1 encodes and decodes the same bytes, and
// a real socket.io 4.8 server on @socket.io/redis-adapter 8.3.0 (and @socket.io/redis-emitter
// 5.1.0), through a real redis-server, sends messages the codec reads and reads the messages it
// writes. The codec runs as tests/support/redis_wire_tool (CHAT_REDIS_WIRE_TOOL).
process.env.TZ = "UTC"; // Node's handshake `time` in the zone the codec writes it

import { describe, it, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { createRequire } from "node:module";
import { once } from "node:events";
import http from "node:http";
import path from "node:path";
import { REPO_ROOT, RedisServer, WAIT_MS, io as ioc } from "./support.mjs";

const require = createRequire(path.join(REPO_ROOT, "package.json"));
const notepack = require("notepack.io");

// ---- the codec, one line at a time ----

class Tool {
  constructor() {
    const bin = process.env.CHAT_REDIS_WIRE_TOOL;
    if (!bin) throw new Error("CHAT_REDIS_WIRE_TOOL is not set: point it at build/tests/redis_wire_tool");
    this.child = spawn(bin, [], { stdio: ["pipe", "pipe", "inherit"] });
    this.waiting = [];
    createInterface({ input: this.child.stdout }).on("line", (line) => this.waiting.shift()(line));
  }
  /** The codec's answer: {ok: result text} or {error: message}. */
  raw(line) {
    return new Promise((resolve) => {
      this.waiting.push((answer) => {
        const space = answer.indexOf(" ");
        const [status, text] = [answer.slice(0, space), answer.slice(space + 1)];
        if (status === "bad-command") throw new Error(`redis_wire_tool: ${text} (for ${line.slice(0, 200)})`);
        resolve(status === "ok" ? { ok: text } : { error: text });
      });
      this.child.stdin.write(line + "\n");
    });
  }
  async run(line) {
    const answer = await this.raw(line);
    assert.ok("ok" in answer, `the codec refused ${line.slice(0, 200)}: ${answer.error}`);
    return answer.ok;
  }
  async json(line) {
    return JSON.parse(await this.run(line));
  }
  stop() {
    this.child.stdin.end();
  }
}

/** A JS value as the tool prints the codec's JSON (binary as {$binary: hex}, dates as toJSON). */
function view(value) {
  if (Buffer.isBuffer(value)) return { $binary: value.toString("hex") };
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return { $binary: Buffer.from(value).toString("hex") };
  if (value instanceof Date) return value.toJSON();
  if (value === undefined) return null;
  if (typeof value === "number" && !Number.isFinite(value)) return { $float: String(value) };
  if (Array.isArray(value)) return value.map(view);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, view(v)]));
  return value;
}

/** The JS value a view stands for, keys sorted (nlohmann's order) so bytes can be compared. */
function unview(value) {
  if (Array.isArray(value)) return value.map(unview);
  if (value && typeof value === "object") {
    if ("$binary" in value) return Buffer.from(value.$binary, "hex");
    if ("$float" in value) return Number(value.$float);
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, unview(value[k])]));
  }
  return value;
}

const hex = (bytes) => Buffer.from(bytes).toString("hex");
const unhex = (text) => Buffer.from(text.replace(/\s+/g, ""), "hex");

function ts64(seconds, nanoseconds) {
  const b = Buffer.alloc(10);
  b[0] = 0xd7;
  b[1] = 0xff;
  b.writeUInt32BE(nanoseconds * 4 + Math.floor(seconds / 2 ** 32), 2);
  b.writeUInt32BE(seconds % 2 ** 32, 6);
  return b;
}
function ts96(seconds, nanoseconds) {
  const b = Buffer.alloc(15);
  b[0] = 0xc7;
  b[1] = 12;
  b[2] = 0xff;
  b.writeUInt32BE(nanoseconds, 3);
  b.writeBigInt64BE(BigInt(seconds), 7);
  return b;
}

let tool;
before(() => {
  tool = new Tool();
});
after(() => tool?.stop());

// ---- notepack.io ----

describe("notepack.io and the codec read the same bytes the same way", () => {
  const values = [
    0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 60, -1, -32, -33, -128, -129,
    -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 53 - 1), -(2 ** 60), 1.5, -0.1, 1e300, -1e-300, -0, NaN,
    Infinity, -Infinity, "", "a", "é€😀", "x".repeat(31), "x".repeat(32), "y".repeat(255), "y".repeat(256),
    "z".repeat(65536), "\ud800", "a\udc00b", null, true, false, undefined, Buffer.alloc(0), Buffer.from([1, 2, 3]),
    Buffer.alloc(300, 7), Buffer.alloc(70000, 9), new Uint8Array([4, 5]), new Date(0),
    new Date("2000-06-13T00:00:00.000Z"), new Date("2000-06-13T00:00:00.123Z"), new Date(-1500),
    new Date(2 ** 34 * 1000 + 5), new Date(8.64e15), new Date(-8.64e15), [], {}, [[]], { a: {} },
    Array.from({ length: 16 }, (_, i) => i), Object.fromEntries(Array.from({ length: 16 }, (_, i) => ["k" + i, i])),
    Array.from({ length: 65536 }, (_, i) => i % 3), { a: undefined, b: 1 }, [undefined, 1],
    ["abcdef", { type: 2, data: ["hello", "world"], nsp: "/" }, { rooms: [], except: [], flags: {} }],
    [
      "abcdef",
      { type: 2, data: ["x", Buffer.from([1, 2, 3]), { nested: { deep: [1.25, -7, 2 ** 40, new Date(0), null] } }], nsp: "/admin" },
      { rooms: ["room1"], except: ["room2"], flags: { volatile: true, timeout: 1000 } },
    ],
  ];

  it("decodes what notepack.encode writes to what notepack.decode reads", async () => {
    for (const value of values) {
      const bytes = notepack.encode(value);
      const ours = await tool.json(`decode ${hex(bytes)}`);
      assert.deepStrictEqual(ours, view(notepack.decode(bytes)), `value ${String(value).slice(0, 60)}`);
    }
  });

  it("decodes hand-made bytes (exts, timestamps, legacy forms, float32, bad UTF-8) as notepack does", async () => {
    const inputs = [
      "d4 00 00", "92 d4 00 00 01", "81 a1 61 d4 00 00", "c7 02 00 0a 0b", "c8 00 02 00 0a 0b",
      "c9 00 00 00 01 00 07", "d5 05 01 02", "d4 05 09", "d4 ff 09", "d6 00 01 02 03 04",
      "d8 7f 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f", "c7 03 05 01 02 03", "c8 00 01 fe 09", "c8 00 01 ff 09",
      "d7 00 00 00 00 df b7 62 9c 00", "d7 00 ff ff ff ff ff ff ff ff", "d6 ff 39 45 79 80", "d6 ff ff ff ff ff",
      "ca 3f c0 00 00", "ca 7f 80 00 00", "ca 3d cc cc cd", "a2 ff fe", "a3 ed a0 80", "a2 e2 82", "a4 f4 90 80 80",
      "a2 c0 af", "a5 61 e2 82 ac 62", "a4 f0 9f 98 80", "a3 e0 80 80", "a3 ef bf bf", "a2 df bf", "a4 f0 90 80 80",
      "d3 80 00 00 00 00 00 00 00", "cf ff ff ff ff ff ff ff ff", "d3 ff ff ff ff ff ff ff fe", "cf 00 20 00 00 00 00 00 01",
    ].map(unhex);
    for (const [seconds, ns] of [[0, 1], [1, 999999999], [2 ** 34 - 1, 999999999], [960854400, 123456789], [2 ** 33, 1e6]])
      inputs.push(ts64(seconds, ns));
    for (const [seconds, ns] of [[-1, 1], [-1, 500000000], [-62198755200, 0], [2 ** 40, 999999999], [-(2 ** 40), 5e8],
      [1e13, 0], [8.64e12, 0], [8.64e12, 1e6], [-8.64e12, 0], [-8.64e12 - 1, 999999999]])
      inputs.push(ts96(seconds, ns));
    for (const bytes of inputs) {
      const ours = await tool.json(`decode ${hex(bytes)}`);
      assert.deepStrictEqual(ours, view(notepack.decode(bytes)), `bytes ${hex(bytes)}`);
    }
  });

  it("writes what notepack.decode reads back as the value, byte for byte what notepack.encode writes", async () => {
    for (const value of values) {
      if (typeof value === "string" && !value.isWellFormed()) continue; // JSON cannot carry a lone surrogate to the tool
      const spec = view(value);
      const ours = unhex(await tool.run(`encode ${JSON.stringify(spec)}`));
      assert.deepStrictEqual(view(notepack.decode(ours)), JSON.parse(JSON.stringify(spec)), `value ${JSON.stringify(spec).slice(0, 60)}`);
      // Byte for byte but for NaN (its bits), -0 (notepack writes 0) and integers beyond 2^53, whose
      // JSON text (JSON.stringify(2 ** 60) is "1152921504606847000") is not the double itself.
      if (!Number.isNaN(value) && !Object.is(value, -0) && !(Math.abs(value) > Number.MAX_SAFE_INTEGER))
        assert.equal(hex(ours), hex(notepack.encode(unview(spec))), `bytes of ${JSON.stringify(spec).slice(0, 60)}`);
    }
  });

  it("refuses what notepack cannot read either: every truncation of a broadcast, trailing bytes", async () => {
    const bytes = notepack.encode(values[values.length - 1]);
    for (let n = 0; n < bytes.length; n++) {
      const prefix = bytes.subarray(0, n);
      assert.throws(() => notepack.decode(prefix), undefined, `notepack on ${n} bytes`);
      assert.ok("error" in (await tool.raw(`decode ${hex(prefix)}`)), `the codec on ${n} bytes`);
    }
    const longer = Buffer.concat([bytes, Buffer.from([0])]);
    assert.throws(() => notepack.decode(longer));
    assert.ok("error" in (await tool.raw(`decode ${hex(longer)}`)));
  });
});

// ---- a Node server on the Redis adapter, through redis-server ----

/** Everything published under the "socket.io" prefix, with a way to await the next match. */
class Capture {
  constructor() {
    this.seen = [];
    this.waiters = [];
  }
  push(channel, message) {
    const entry = { channel, message };
    const index = this.waiters.findIndex((w) => w.match(entry));
    if (index >= 0) this.waiters.splice(index, 1)[0].resolve(entry);
    else this.seen.push(entry);
  }
  next(match, what) {
    const index = this.seen.findIndex(match);
    if (index >= 0) return Promise.resolve(this.seen.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nothing published: ${what}`)), WAIT_MS);
      this.waiters.push({ match, resolve: (entry) => (clearTimeout(timer), resolve(entry)) });
    });
  }
  on(channel) {
    return this.next((entry) => entry.channel === channel, channel);
  }
}

describe("a Node server on @socket.io/redis-adapter and the codec understand each other", () => {
  const { createClient } = require("redis");
  const { Server } = require("socket.io");
  const { createAdapter } = require("@socket.io/redis-adapter");
  const { Emitter } = require("@socket.io/redis-emitter");
  let redis, pub, sub, spy, publisher, httpServer, io, client, adapterUid;
  const capture = new Capture();
  const asked = []; // what the client got with "ask"

  before(async () => {
    redis = await RedisServer.start(); // fails, naming scripts/setup, without redis-server
    pub = createClient({ url: redis.url });
    sub = pub.duplicate();
    spy = pub.duplicate();
    publisher = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect(), spy.connect(), publisher.connect()]);
    // The spy plays a second server: subscribed to the request channel (PUBSUB NUMSUB counts it,
    // so Node publishes its requests) and to every broadcast and response.
    const record = (message, channel) => capture.push(channel.toString(), message);
    await spy.pSubscribe(["socket.io#*", "socket.io-response#*"], record, true);
    await spy.subscribe("socket.io-request#/#", record, true);

    httpServer = http.createServer();
    io = new Server(httpServer, { adapter: createAdapter(pub, sub) });
    io.on("connection", (socket) => {
      socket.join("room1");
      socket.data = { name: "ann", n: 1.5 };
    });
    io.on("ping", (...args) => {
      const reply = args.pop();
      reply({ pong: args });
    });
    await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    adapterUid = io.of("/").adapter.uid;
    client = ioc(`http://127.0.0.1:${httpServer.address().port}`, {
      transports: ["websocket"],
      auth: { token: "t" },
      query: { q: "1" },
      extraHeaders: { "x-custom": "yes" },
    });
    client.on("ask", (...args) => {
      const ack = args.pop();
      asked.push(args);
      ack("client answer");
    });
    await once(client, "connect");
  });

  after(async () => {
    client?.close();
    io?.close();
    await Promise.all([pub, sub, spy, publisher].map((c) => c?.quit().catch(() => {})));
    await redis?.kill("SIGTERM");
  });

  beforeEach(() => {
    capture.seen.length = 0; // what earlier tests left (our own publishes among them)
  });

  async function decodeBroadcast(entry) {
    return tool.json(`broadcast-decode ${hex(entry.message)}`);
  }

  it("names the channels the adapter uses; its pattern globs nothing in the prefix or namespace", async () => {
    const adapter = io.of("/").adapter;
    const names = await tool.json(`channels socket.io / ${adapterUid}`);
    assert.deepStrictEqual(names, {
      broadcast: adapter.channel,
      room: adapter.channel + "r1#",
      pattern: adapter.channel + "*",
      request: adapter.requestChannel,
      response: adapter.responseChannel,
      response_for: adapter.specificResponseChannel,
    });

    // Glob characters in the prefix and namespace match only themselves in the codec's pattern.
    const odd = await tool.json("channels my[app] /a*b? x");
    assert.equal(odd.broadcast, "my[app]#/a*b?#");
    const listener = pub.duplicate();
    await listener.connect();
    try {
      const heard = [];
      let heardSecond;
      const second = new Promise((resolve) => (heardSecond = resolve));
      await listener.pSubscribe(odd.pattern, (message, channel) => {
        heard.push(channel);
        if (message === "2") heardSecond();
      });
      await publisher.publish("mya#/aXXbY#r#", "1"); // the unescaped pattern would match this
      await publisher.publish(odd.room, "2");
      await second;
      assert.deepStrictEqual(heard, [odd.room]);
    } finally {
      await listener.quit();
    }
  });

  it("reads Node's broadcasts and writes the same bytes for them", async () => {
    io.emit("hello", "world");
    let entry = await capture.on("socket.io#/#");
    let message = await decodeBroadcast(entry);
    assert.deepStrictEqual(message, {
      uid: adapterUid,
      packet: { type: 2, nsp: "/", data: ["hello", "world"] },
      opts: { rooms: [], except: [], flags: {} },
    });
    assert.equal(await tool.run(`broadcast-encode ${JSON.stringify(message)}`), hex(entry.message));

    io.to("room1").except("room2").volatile.emit("x", Buffer.from([1, 2, 3]), { deep: { list: [1.5, -7, 2 ** 40] } }, new Date(0));
    entry = await capture.on("socket.io#/#room1#");
    message = await decodeBroadcast(entry);
    assert.deepStrictEqual(message, {
      uid: adapterUid,
      packet: { type: 2, nsp: "/", data: ["x", { $binary: "010203" }, { deep: { list: [1.5, -7, 2 ** 40] } }, "1970-01-01T00:00:00.000Z"] },
      opts: { rooms: ["room1"], except: ["room2"], flags: { volatile: true } },
    });
    assert.equal(await tool.run(`room-of socket.io / ${entry.channel}`), '"room1"');
  });

  it("reads the emitter's broadcasts and requests", async () => {
    const emitter = new Emitter(publisher);
    emitter.to("room1").compress(false).emit("e", 1, Buffer.from("hi"));
    const message = await decodeBroadcast(await capture.on("socket.io#/#room1#"));
    assert.deepStrictEqual(message, {
      uid: "emitter",
      packet: { type: 2, nsp: "/", data: ["e", 1, { $binary: hex(Buffer.from("hi")) }] },
      opts: { rooms: ["room1"], except: [], flags: { compress: false } },
    });
    emitter.of("/").in("room1").socketsJoin(["via-emitter"]);
    let request = await tool.json(`request-decode ${hex((await capture.on("socket.io-request#/#")).message)}`);
    assert.deepStrictEqual(request, { type: 2, opts: { rooms: ["room1"], except: [] }, rooms: ["via-emitter"] });
    emitter.serverSideEmit("note", Buffer.from([7]));
    request = await tool.json(`request-decode ${hex((await capture.on("socket.io-request#/#")).message)}`);
    assert.deepStrictEqual(request, { type: 6, uid: "emitter", data: ["note", { $binary: "07" }] });
  });

  it("delivers the codec's broadcasts to Node's clients", async () => {
    const got = once(client, "fromcpp");
    const bytes = await tool.run(`broadcast-encode ${JSON.stringify({
      uid: "cxxnod",
      packet: { nsp: "/", data: ["fromcpp", { $binary: "0102" }, { a: [1, 2.5, "s", null, true] }] },
      opts: { rooms: [], except: [], flags: {} },
    })}`);
    await publisher.publish("socket.io#/#", unhex(bytes));
    const [buffer, object] = await got;
    assert.ok(Buffer.isBuffer(buffer) && buffer.equals(Buffer.from([1, 2])), "a Buffer");
    assert.deepStrictEqual(object, { a: [1, 2.5, "s", null, true] });

    // One room, on its channel: first one that excepts the client, then one that reaches it.
    const received = [];
    client.on("roomcast", (n) => received.push(n));
    const reached = new Promise((resolve) => client.on("roomcast", (n) => n === 2 && resolve()));
    for (const [n, except] of [[1, [client.id]], [2, []]]) {
      const roomcast = await tool.run(`broadcast-encode ${JSON.stringify({
        uid: "cxxnod", packet: { nsp: "/", data: ["roomcast", n] }, opts: { rooms: ["room1"], except, flags: { volatile: true } },
      })}`);
      await publisher.publish("socket.io#/#room1#", unhex(roomcast));
    }
    await reached;
    assert.deepStrictEqual(received, [2]);
  });

  it("reads the requests Node sends and Node reads the codec's responses", async () => {
    // fetchSockets: REMOTE_FETCH, answered with a socket of "ours"
    const fetched = io.fetchSockets();
    const fetch = await tool.json(`request-decode ${hex((await capture.on("socket.io-request#/#")).message)}`);
    assert.equal(fetch.type, 5);
    assert.equal(fetch.uid, adapterUid);
    assert.deepStrictEqual(fetch.opts, { rooms: [], except: [] });
    const remote = {
      id: "remotesocketid000001",
      handshake: {
        headers: [["Host", "example.org"], ["Origin", "https://a.example"], ["Accept", "a"], ["Accept", "b"]],
        query: [["EIO", "4"], ["transport", "websocket"]],
        url: "/socket.io/?EIO=4&transport=websocket",
        address: "10.0.0.7",
        issued: 960854400123,
      },
      auth: { token: "r" },
      rooms: ["remotesocketid000001", "room9"],
      data: { bin: { $binary: "0a0b" } },
    };
    await publisher.publish("socket.io-response#/#",
      unhex(await tool.run(`response-encode ${JSON.stringify({ kind: "fetch", requestId: fetch.requestId, result: [remote] })}`)));
    const sockets = await fetched;
    const theirs = sockets.find((s) => s.id === remote.id);
    assert.ok(theirs, "Node lists the remote socket");
    assert.deepStrictEqual(theirs.handshake, {
      headers: { host: "example.org", origin: "https://a.example", accept: "a, b" },
      time: new Date(960854400123).toString(),
      address: "10.0.0.7",
      xdomain: true,
      secure: false,
      issued: 960854400123,
      url: "/socket.io/?EIO=4&transport=websocket",
      query: { EIO: "4", transport: "websocket" },
      auth: { token: "r" },
    });
    assert.deepStrictEqual([...theirs.rooms], ["remotesocketid000001", "room9"]);
    assert.deepStrictEqual(theirs.data, { bin: { type: "Buffer", data: [10, 11] } }); // JSON.stringify'd, as Node sends it

    // allRooms: ALL_ROOMS
    const rooms = io.of("/").adapter.allRooms();
    const allRooms = await tool.json(`request-decode ${hex((await capture.on("socket.io-request#/#")).message)}`);
    assert.deepStrictEqual(Object.keys(allRooms).sort(), ["requestId", "type", "uid"]);
    assert.equal(allRooms.type, 1);
    await publisher.publish("socket.io-response#/#",
      unhex(await tool.run(`response-encode ${JSON.stringify({ kind: "rooms", requestId: allRooms.requestId, result: ["far"] })}`)));
    assert.ok((await rooms).has("far"));

    // serverSideEmitWithAck: SERVER_SIDE_EMIT with a requestId (Buffers JSON.stringify'd, read back as binary)
    const replies = io.serverSideEmitWithAck("ping", 1, Buffer.from([9]));
    const sse = await tool.json(`request-decode ${hex((await capture.on("socket.io-request#/#")).message)}`);
    assert.deepStrictEqual({ ...sse, requestId: undefined }, { type: 6, uid: adapterUid, requestId: undefined, data: ["ping", 1, { $binary: "09" }] });
    await publisher.publish("socket.io-response#/#",
      unhex(await tool.run(`response-encode ${JSON.stringify({ kind: "sse", requestId: sse.requestId, result: { ok: [1, "two"] } })}`)));
    assert.deepStrictEqual(await replies, [{ ok: [1, "two"] }]);

    io.serverSideEmit("hey", "you");
    assert.deepStrictEqual(await tool.json(`request-decode ${hex((await capture.on("socket.io-request#/#")).message)}`),
      { type: 6, uid: adapterUid, data: ["hey", "you"] });

    io.in("room1").except("x").socketsJoin(["room2", "room3"]);
    assert.deepStrictEqual(await tool.json(`request-decode ${hex((await capture.on("socket.io-request#/#")).message)}`),
      { type: 2, uid: adapterUid, opts: { rooms: ["room1"], except: ["x"] }, rooms: ["room2", "room3"] });
    io.in("room1").socketsLeave("room3");
    assert.deepStrictEqual(await tool.json(`request-decode ${hex((await capture.on("socket.io-request#/#")).message)}`),
      { type: 3, uid: adapterUid, opts: { rooms: ["room1"], except: [] }, rooms: ["room3"] });
    io.in("nobody").disconnectSockets(true);
    assert.deepStrictEqual(await tool.json(`request-decode ${hex((await capture.on("socket.io-request#/#")).message)}`),
      { type: 4, uid: adapterUid, opts: { rooms: ["nobody"], except: [] }, close: true });
  });

  it("reads Node's broadcast with acks (notepack) and Node counts the codec's client count and ack", async () => {
    const answers = io.timeout(WAIT_MS).emitWithAck("ask", Buffer.from([5]));
    const entry = await capture.on("socket.io-request#/#");
    assert.notEqual(entry.message[0], 0x7b, "notepack, not JSON");
    const request = await tool.json(`request-decode ${hex(entry.message)}`);
    assert.deepStrictEqual({ ...request, requestId: undefined }, {
      type: 7, uid: adapterUid, requestId: undefined,
      packet: { type: 2, nsp: "/", data: ["ask", { $binary: "05" }] },
      opts: { rooms: [], except: [], flags: { timeout: WAIT_MS } },
    });
    await publisher.publish("socket.io-response#/#",
      unhex(await tool.run(`response-encode ${JSON.stringify({ kind: "count", requestId: request.requestId, result: 1 })}`)));
    await publisher.publish("socket.io-response#/#",
      unhex(await tool.run(`response-encode ${JSON.stringify({ kind: "ack", requestId: request.requestId, result: { $binary: "beef" } })}`)));
    const all = await answers;
    assert.equal(all.length, 2);
    assert.ok(all.includes("client answer"));
    assert.ok(all.some((a) => Buffer.isBuffer(a) && a.equals(Buffer.from([0xbe, 0xef]))));
  });

  it("Node answers the codec's requests in a shape the codec reads", async () => {
    const ask = (request) => tool.run(`request-encode ${JSON.stringify(request)}`).then((h) => publisher.publish("socket.io-request#/#", unhex(h)));
    const response = async (kind) => tool.json(`response-decode ${kind} ${hex((await capture.on("socket.io-response#/#")).message)}`);

    await ask({ type: 5, uid: "cxxnod", requestId: "req005", opts: { rooms: ["room1"], except: [] } });
    const fetched = await response("fetch");
    assert.equal(fetched.requestId, "req005");
    assert.equal(fetched.result.length, 1);
    const [socket] = fetched.result;
    assert.equal(socket.id, client.id);
    assert.deepStrictEqual(socket.rooms.sort(), [client.id, "room1", "room2", "via-emitter"].sort());
    assert.deepStrictEqual(socket.data, { name: "ann", n: 1.5 });
    assert.deepStrictEqual(socket.auth, { token: "t" });
    assert.ok(socket.handshake.headers.some(([k, v]) => k === "x-custom" && v === "yes"), JSON.stringify(socket.handshake.headers));
    assert.ok(socket.handshake.query.some(([k, v]) => k === "q" && v === "1"));
    assert.ok(socket.handshake.query.some(([k, v]) => k === "EIO" && v === "4"));
    assert.match(socket.handshake.url, /^\/socket\.io\/\?/);
    assert.ok(socket.handshake.issued > 0);
    assert.match(socket.handshake.address, /127\.0\.0\.1/);

    await ask({ type: 0, uid: "cxxnod", requestId: "req000", rooms: ["room1"] });
    assert.deepStrictEqual(await response("sockets"), { requestId: "req000", result: [client.id] });

    // join (as the emitter sends it, no uid), then ALL_ROOMS: Node handles requests in order
    await ask({ type: 2, opts: { rooms: [client.id], except: [] }, rooms: ["joined-by-cpp"] });
    await ask({ type: 3, opts: { rooms: [client.id], except: [] }, rooms: ["room2"] });
    await ask({ type: 1, uid: "cxxnod", requestId: "req001" });
    const rooms = await response("rooms");
    assert.equal(rooms.requestId, "req001");
    assert.ok(rooms.result.includes("joined-by-cpp") && rooms.result.includes("room1") && !rooms.result.includes("room2"));

    await ask({ type: 6, uid: "cxxnod", requestId: "req006", data: ["ping", "a", { $binary: "01" }] });
    assert.deepStrictEqual(await response("reply"), {
      type: 6, requestId: "req006", result: { pong: ["a", { $binary: "01" }] }, // Node's handler got {type:"Buffer"}; read back as bytes
    });

    // the 7.x one-socket join: the server with the socket answers {requestId}
    await publisher.publish("socket.io-request#/#", Buffer.from(JSON.stringify({ uid: "old7x", requestId: "req074", type: 2, sid: client.id, room: "seven" })));
    assert.deepStrictEqual(await response("done"), { requestId: "req074", result: null });

    // broadcast with acks, from the codec (notepack): a client count (JSON) then the ack (notepack)
    asked.length = 0;
    await ask({
      type: 7, uid: "cxxnod", requestId: "req007",
      packet: { nsp: "/", data: ["ask", { $binary: "ff" }] },
      opts: { rooms: ["room1"], except: [], flags: { timeout: WAIT_MS } },
    });
    const countEntry = await capture.on("socket.io-response#/#");
    assert.equal(countEntry.message[0], 0x7b, "the count is JSON");
    assert.deepStrictEqual(await tool.json(`response-decode count ${hex(countEntry.message)}`), { type: 8, requestId: "req007", result: 1 });
    const ackEntry = await capture.on("socket.io-response#/#");
    assert.notEqual(ackEntry.message[0], 0x7b, "the ack is notepack");
    assert.deepStrictEqual(await tool.json(`response-decode reply ${hex(ackEntry.message)}`), { type: 9, requestId: "req007", result: "client answer" });
    assert.equal(asked.length, 1);
    assert.ok(Buffer.isBuffer(asked[0][0]) && asked[0][0].equals(Buffer.from([0xff])));

    // disconnect, last
    const gone = once(client, "disconnect");
    await ask({ type: 4, opts: { rooms: [client.id], except: [] }, close: false });
    assert.equal((await gone)[0], "io server disconnect");
  });
});

// The msgpack parser (test_server --parser msgpack) against socket.io-client with
// socket.io-msgpack-parser: events, acks both ways, binary inline, nested maps, rooms and
// broadcasts, over every transport set-up; a JSON client cannot talk to it; the msgpack browser
// bundle is served.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { CLIENT_DIST, MODES, REPO_ROOT, startServer, connect, connected, tracker, uniqueName, httpGet, withTimeout, WAIT_MS } from "./support.mjs";

const require = createRequire(path.join(REPO_ROOT, "package.json"));
const parser = require("socket.io-msgpack-parser");
const msgpack = { parser };

let server;
before(async () => {
  server = await startServer(["--parser", "msgpack", "--client-dir", CLIENT_DIST]);
});
after(async () => {
  await server?.stop();
});

const nested = {
  user: { name: "Zoë", tags: ["a", "b"], profile: { age: 42, ratio: 0.5, active: true, none: null } },
  list: [1, -2, 3.25, "x", [[[]]], {}],
  big: 2 ** 40,
};

for (const mode of MODES) {
  describe(`msgpack parser [${mode.name}]`, () => {
    it("events round trip, nested maps and all", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode, msgpack));
      assert.deepEqual(await c.next("auth"), [{}]);
      c.emit("message", "hello", nested, 7);
      assert.deepEqual(await c.next("message-back"), ["hello", nested, 7]);
    });

    it("binary values travel inline and come back as Buffers", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode, msgpack));
      const bytes = Buffer.from([0, 1, 2, 253, 254, 255]);
      const big = Buffer.alloc(100 * 1024, 7);
      c.emit("message", bytes, { inner: { file: bytes, list: [Buffer.alloc(0)] } }, big);
      const [first, second, third] = await c.next("message-back");
      assert.ok(Buffer.isBuffer(first) && first.equals(bytes));
      assert.ok(Buffer.isBuffer(second.inner.file) && second.inner.file.equals(bytes));
      assert.ok(Buffer.isBuffer(second.inner.list[0]) && second.inner.list[0].length === 0);
      assert.ok(Buffer.isBuffer(third) && third.equals(big));
    });

    it("the server acks the client's events", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode, msgpack));
      for (let i = 0; i < 3; i++) assert.deepEqual(await c.ack("message-with-ack", i, nested), [i, nested]);
      const [bytes] = await c.ack("message-with-ack", Buffer.from("ack me"));
      assert.ok(Buffer.isBuffer(bytes) && bytes.toString() === "ack me");
    });

    it("the client acks the server's questions", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode, msgpack));
      c.socket.on("question", (...args) => {
        const reply = args.pop();
        reply("answer to", ...args);
      });
      for (let i = 0; i < 3; i++) {
        c.emit("ask", WAIT_MS, "q", i, Buffer.from([i]));
        const [label, q, n, bytes] = await c.next("answer");
        assert.deepEqual([label, q, n], ["answer to", "q", i]);
        assert.ok(Buffer.isBuffer(bytes) && bytes.equals(Buffer.from([i])));
      }
    });

    it("rooms and broadcasts reach msgpack clients", async (t) => {
      const tr = tracker(t);
      const [a, b, other] = await Promise.all([0, 1, 2].map(() => connected(server.url, mode, msgpack)));
      [a, b, other].forEach((c) => tr.add(c));
      const room = uniqueName();
      await a.ack("join", room);
      await b.ack("join", room);
      assert.deepEqual(await other.ack("to-room", room, { tag: "room", bin: Buffer.from([5]) }), []);
      for (const c of [a, b]) {
        const [payload] = await c.next("room-message");
        assert.equal(payload.tag, "room");
        assert.ok(Buffer.isBuffer(payload.bin) && payload.bin.equals(Buffer.from([5])));
      }
      assert.deepEqual(await a.ack("broadcast", { tag: "all-others" }), []);
      assert.deepEqual(await b.next("broadcast"), [{ tag: "all-others" }]);
      assert.deepEqual(await other.next("broadcast"), [{ tag: "all-others" }]);
      await Promise.all([a.fence(), b.fence(), other.fence()]);
      assert.deepEqual(a.all("broadcast"), []);
      assert.equal(other.all("room-message").length, 0);
    });

    it("a broadcast with acks collects every client's answer", async (t) => {
      const tr = tracker(t);
      const nsp = "/custom";
      const x = tr.add(await connected(server.url, mode, { ...msgpack, nsp }));
      const y = tr.add(await connected(server.url, mode, { ...msgpack, nsp }));
      for (const c of [x, y]) c.socket.on("question", (...args) => args.pop()(c.id));
      const [error, answers] = await x.ack("ask-all", WAIT_MS, "who");
      assert.equal(error, false);
      assert.deepEqual(answers.map((answer) => answer[0]).sort(), [x.id, y.id].sort());
    });

    it("other namespaces and a refused CONNECT", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode, { ...msgpack, nsp: "/private", auth: { token: "secret" } }));
      assert.deepEqual(await c.ack("message-with-ack", "in private"), ["in private"]);
      const refused = tr.add(connect(server.url, mode, { ...msgpack, nsp: "/private", auth: { token: "wrong" } }));
      const error = await withTimeout(
        new Promise((resolve) => refused.socket.once("connect_error", resolve)),
        WAIT_MS,
        "connect_error",
      );
      assert.equal(error.message, "Not authorized");
      assert.deepEqual(error.data, { reason: "bad token" });
    });
  });
}

describe("msgpack parser: wrong clients", () => {
  it("a JSON client does not get connected", async (t) => {
    const tr = tracker(t);
    const c = tr.add(connect(server.url, MODES[1]));
    const outcome = await withTimeout(
      new Promise((resolve) => {
        c.socket.once("connect", () => resolve("connected"));
        c.socket.io.once("close", (reason) => resolve(reason));
        c.socket.once("connect_error", () => resolve("connect_error"));
      }),
      WAIT_MS,
      "the JSON client's outcome",
    );
    assert.notEqual(outcome, "connected");
  });
});

describe("msgpack parser: the browser bundle", () => {
  for (const file of ["socket.io.msgpack.min.js", "socket.io.msgpack.min.js.map"]) {
    it(`GET /socket.io/${file} returns the file`, async () => {
      const expected = fs.readFileSync(path.join(CLIENT_DIST, file));
      const res = await httpGet(`${server.url}/socket.io/${file}`);
      assert.equal(res.status, 200);
      assert.ok(res.body.equals(expected), "body differs from the file");
    });
  }
});

describe("msgpack parser: options it cannot honour", () => {
  it("an initial packet (socket.io-parser text) is refused when the server starts", async () => {
    await assert.rejects(
      startServer(["--parser", "msgpack", "--initial-packet", '2["welcome"]']),
      /initial_packet: only the JSON parser's clients can read it/,
    );
  });
});

// Binary attachments both ways: nested Buffers, several attachments, an empty buffer, a large
// buffer, binary in client acks (BINARY_ACK from the server) and in server-to-client acks.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { MODES, startServer, connected, tracker, pattern } from "./support.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

/** Asserts `actual` equals `expected` and every Buffer in `expected` came back as a Buffer. */
function assertSameWithBuffers(actual, expected, where = "$") {
  if (Buffer.isBuffer(expected)) {
    assert.ok(Buffer.isBuffer(actual), `${where}: expected a Buffer, got ${Object.prototype.toString.call(actual)}`);
    assert.equal(actual.length, expected.length, `${where}: length`);
    assert.ok(actual.equals(expected), `${where}: bytes differ`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected an array`);
    assert.equal(actual.length, expected.length, `${where}: array length`);
    expected.forEach((v, i) => assertSameWithBuffers(actual[i], v, `${where}[${i}]`));
    return;
  }
  if (expected !== null && typeof expected === "object") {
    assert.ok(actual !== null && typeof actual === "object" && !Array.isArray(actual), `${where}: expected an object`);
    assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), `${where}: keys`);
    for (const k of Object.keys(expected)) assertSameWithBuffers(actual[k], expected[k], `${where}.${k}`);
    return;
  }
  assert.deepEqual(actual, expected, where);
}

const BIG = pattern(200 * 1024, 7);

function nestedArgs() {
  return [
    Buffer.from([1, 2, 3, 4]),
    {
      name: "nested",
      a: Buffer.from("hello"),
      deeper: { list: [1, Buffer.from([0, 255, 128, 127]), { deepest: [Buffer.from("🎉", "utf8")] }], n: null },
      empty: Buffer.alloc(0),
    },
    [Buffer.from([9]), "text", [[Buffer.from([10, 11])]]],
    "plain string",
    42,
  ];
}

for (const mode of MODES) {
  describe(`binary [${mode.name}]`, () => {
    it("one top-level buffer round trips", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      c.emit("message", Buffer.from([1, 2, 3]));
      assertSameWithBuffers(await c.next("message-back"), [Buffer.from([1, 2, 3])]);
    });

    it("buffers nested at several depths, several attachments, an empty buffer", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      const args = nestedArgs();
      c.emit("message", ...args);
      assertSameWithBuffers(await c.next("message-back"), args);
    });

    it("only an empty buffer", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      c.emit("message", Buffer.alloc(0), { e: Buffer.alloc(0) });
      assertSameWithBuffers(await c.next("message-back"), [Buffer.alloc(0), { e: Buffer.alloc(0) }]);
    });

    it("a ~200 KB buffer round trips byte for byte", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      c.emit("message", { big: BIG, tail: "end" });
      assertSameWithBuffers(await c.next("message-back"), [{ big: BIG, tail: "end" }]);
    });

    it("all 256 byte values survive", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const rev = Buffer.from(all).reverse();
      c.emit("message", all, rev);
      assertSameWithBuffers(await c.next("message-back"), [all, rev]);
    });

    it("binary and text events interleave in order", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      for (let i = 0; i < 6; i++) {
        if (i % 2) c.emit("message", i, pattern(100 + i, i));
        else c.emit("message", i, "text");
      }
      for (let i = 0; i < 6; i++) {
        const expected = i % 2 ? [i, pattern(100 + i, i)] : [i, "text"];
        assertSameWithBuffers(await c.next("message-back"), expected);
      }
    });

    it("binary in client acks (message-with-ack answers with BINARY_ACK)", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      const args = nestedArgs();
      assertSameWithBuffers(await c.ack("message-with-ack", ...args), args);
      assertSameWithBuffers(await c.ack("message-with-ack", BIG), [BIG]);
      const one = await c.socket.emitWithAck("message-with-ack", Buffer.from("ack"));
      assertSameWithBuffers(one, Buffer.from("ack"));
    });

    it("binary in server-to-client acks (ask / question / answer)", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode));
      const reply = [Buffer.from([5, 6, 7]), { inner: [Buffer.alloc(0), Buffer.from("x")] }];
      c.socket.on("question", (...args) => args.pop()(...reply));
      c.emit("ask", 3000, Buffer.from([1, 1, 2, 3, 5, 8]), { q: Buffer.from("?") });
      const q = await c.next("question");
      assertSameWithBuffers(q.slice(0, -1), [Buffer.from([1, 1, 2, 3, 5, 8]), { q: Buffer.from("?") }]);
      assertSameWithBuffers(await c.next("answer"), reply);
    });

    it("binary on /custom and to catch-all", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connected(server.url, mode, { nsp: "/custom" }));
      const args = nestedArgs();
      c.emit("message", ...args);
      assertSameWithBuffers(await c.next("message-back"), args);
      c.emit("unknown-binary", Buffer.from([42]));
      assertSameWithBuffers(await c.next("catch-all"), ["unknown-binary", Buffer.from([42])]);
    });
  });
}

// permessage-deflate (Options::per_message_deflate, test_server --per-message-deflate 1) with the
// stock client: socket.io-client's WebSocket (the `ws` package) offers the extension; the server
// takes it only when the option is on. Broadcasts share one prepared frame among recipients, so
// a client with the extension and one without must both get every message intact: text and
// binary, below and above the compression threshold (1024 bytes), one to one and broadcast.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { startServer, connected, tracker, pattern, WebSocket, withTimeout, WAIT_MS, BURST, assertBurst } from "./support.mjs";

const WEBSOCKET = { name: "websocket", opts: { transports: ["websocket"] }, upgrade: false, initial: "websocket" };
const UPGRADE = { name: "polling+upgrade", opts: {}, upgrade: true, initial: "polling" };

/** The extensions the client's WebSocket negotiated ("" none). */
function extensionsOf(client) {
  return client.socket.io.engine.transport.ws.extensions;
}

/** Bytes the client's TCP socket has read so far. */
function bytesRead(client) {
  return client.socket.io.engine.transport.ws._socket.bytesRead;
}

// Compressible text (a repeated sentence) and incompressible bytes, each above the threshold,
// and a short text below it.
const LONG_TEXT = "the quick brown fox jumps over the lazy dog; ".repeat(4000);
const SHORT_TEXT = "short";
const BYTES = pattern(64 * 1024, 3);

describe("per_message_deflate on", () => {
  let server;
  before(async () => {
    server = await startServer(["--per-message-deflate", "1"]);
  });
  after(async () => {
    await server?.stop();
  });

  for (const mode of [WEBSOCKET, UPGRADE]) {
    it(`[${mode.name}] a client offering the extension gets it, and the messages both ways`, async (t) => {
      const track = tracker(t);
      const client = track.add(await connected(server.url, mode));
      assert.match(extensionsOf(client), /^permessage-deflate/);
      client.emit("message", LONG_TEXT, BYTES, SHORT_TEXT);
      const [text, bytes, short] = await client.next("message-back");
      assert.equal(text, LONG_TEXT);
      assert.ok(Buffer.from(bytes).equals(BYTES));
      assert.equal(short, SHORT_TEXT);
    });
  }

  it("a broadcast reaches clients with and without the extension intact", async (t) => {
    const track = tracker(t);
    const deflating = track.add(await connected(server.url, WEBSOCKET));
    const plain = track.add(await connected(server.url, WEBSOCKET, { perMessageDeflate: false }));
    const sender = track.add(await connected(server.url, WEBSOCKET, { perMessageDeflate: false }));
    assert.match(extensionsOf(deflating), /^permessage-deflate/);
    assert.equal(extensionsOf(plain), "");
    for (const payload of [SHORT_TEXT, LONG_TEXT, { text: LONG_TEXT, bytes: BYTES }, BYTES]) {
      await sender.ack("broadcast", payload);
      for (const client of [deflating, plain]) {
        const [got] = await client.next("broadcast");
        if (Buffer.isBuffer(payload)) assert.ok(Buffer.from(got).equals(payload));
        else if (payload.bytes) {
          assert.equal(got.text, payload.text);
          assert.ok(Buffer.from(got.bytes).equals(payload.bytes));
        } else assert.equal(got, payload);
      }
    }
  });

  it("a burst mixing messages compressed for the client and shared frames arrives in order", async (t) => {
    const track = tracker(t);
    const deflating = track.add(await connected(server.url, WEBSOCKET));
    assert.match(extensionsOf(deflating), /^permessage-deflate/);
    assert.deepEqual(await deflating.ack("burst", BURST), [BURST]);
    assertBurst(deflating.all("burst"));
  });

  it("a large compressible message reaches a client with the extension compressed", async (t) => {
    const track = tracker(t);
    const deflating = track.add(await connected(server.url, WEBSOCKET));
    const plain = track.add(await connected(server.url, WEBSOCKET, { perMessageDeflate: false }));
    const sender = track.add(await connected(server.url, WEBSOCKET, { perMessageDeflate: false }));
    const before = [bytesRead(deflating), bytesRead(plain)];
    await sender.ack("broadcast", LONG_TEXT);
    assert.equal((await deflating.next("broadcast"))[0], LONG_TEXT);
    assert.equal((await plain.next("broadcast"))[0], LONG_TEXT);
    const read = [bytesRead(deflating) - before[0], bytesRead(plain) - before[1]];
    assert.ok(read[1] >= LONG_TEXT.length, `uncompressed: ${read[1]} bytes read`);
    assert.ok(read[0] < LONG_TEXT.length / 10, `compressed: ${read[0]} bytes read for ${LONG_TEXT.length}`);
  });

  it("a message sent with compress(false) reaches a client with the extension uncompressed", async (t) => {
    const track = tracker(t);
    const deflating = track.add(await connected(server.url, WEBSOCKET));
    const sender = track.add(await connected(server.url, WEBSOCKET, { perMessageDeflate: false }));
    assert.match(extensionsOf(deflating), /^permessage-deflate/);
    // To one socket (Socket::emit_uncompressed), then broadcast (compress(false)).
    let before = bytesRead(deflating);
    deflating.emit("message-uncompressed", LONG_TEXT);
    assert.equal((await deflating.next("message-back"))[0], LONG_TEXT);
    assert.ok(bytesRead(deflating) - before >= LONG_TEXT.length, `${bytesRead(deflating) - before} bytes read`);
    before = bytesRead(deflating);
    await sender.ack("broadcast-uncompressed", LONG_TEXT);
    assert.equal((await deflating.next("broadcast"))[0], LONG_TEXT);
    assert.ok(bytesRead(deflating) - before >= LONG_TEXT.length, `${bytesRead(deflating) - before} bytes read`);
    // And the same broadcast without the flag is compressed, on the same connection.
    before = bytesRead(deflating);
    await sender.ack("broadcast", LONG_TEXT);
    assert.equal((await deflating.next("broadcast"))[0], LONG_TEXT);
    assert.ok(bytesRead(deflating) - before < LONG_TEXT.length / 10, `${bytesRead(deflating) - before} bytes read`);
  });
});

describe("per_message_deflate: what a message inflates to is bounded by max_payload", () => {
  let server;
  before(async () => {
    server = await startServer(["--per-message-deflate", "1", "--max-payload", "100000"]);
  });
  after(async () => {
    await server?.stop();
  });

  it("a small compressed frame that inflates past it closes the connection with 1009", async () => {
    // 4 MB of one letter deflates to a few KB: under max_payload on the wire, far over it inflated.
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`, {
      perMessageDeflate: { threshold: 0 },
    });
    const code = await withTimeout(
      new Promise((resolve, reject) => {
        ws.on("message", (data) => {
          if (data.toString().startsWith("0{")) ws.send("4" + "a".repeat(4 * 1024 * 1024));
        });
        ws.on("close", (closeCode) => resolve(closeCode));
        ws.on("error", reject);
      }),
      WAIT_MS,
      "the server closing the connection",
    );
    assert.match(ws.extensions, /^permessage-deflate/);
    assert.equal(code, 1009);
  });
});

describe("per_message_deflate off (the default)", () => {
  let server;
  before(async () => {
    server = await startServer([]);
  });
  after(async () => {
    await server?.stop();
  });

  it("a client offering the extension does not get it, and messages go through", async (t) => {
    const track = tracker(t);
    const client = track.add(await connected(server.url, WEBSOCKET));
    assert.equal(extensionsOf(client), "");
    client.emit("message", LONG_TEXT, BYTES);
    const [text, bytes] = await client.next("message-back");
    assert.equal(text, LONG_TEXT);
    assert.ok(Buffer.from(bytes).equals(BYTES));
  });
});

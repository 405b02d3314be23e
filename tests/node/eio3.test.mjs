// Older clients (Options::allow_eio3, Node's allowEIO3): socket.io-client 2.x (Engine.IO v3,
// Socket.IO v2), from npm as socket.io-client-v2, connects over polling, WebSocket and the
// upgrade, and chats with socket.io-client 4 clients on the same server: events, acks both
// ways, binary, rooms and broadcasts, namespaces with a query for auth, disconnects, the
// client-driven heartbeat. Raw requests pin the v3 framing and the refusal without the option.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import path from "node:path";
import {
  MODES,
  ReceivedLog,
  REPO_ROOT,
  WAIT_MS,
  startServer,
  connected,
  tracker,
  uniqueName,
  pattern,
  withTimeout,
  httpGet,
  httpRequest,
  reasonsWhen,
  WebSocket,
} from "./support.mjs";

const require = createRequire(path.join(REPO_ROOT, "package.json"));
const ioV2 = require("socket.io-client-v2");

/**
 * A socket.io-client 2.x socket and everything it received (2.x has no onAny: its packet
 * handler is wrapped), with the helpers the v4 Client of support.mjs has.
 */
class V2Client extends ReceivedLog {
  constructor(socket, mode) {
    super(socket, mode);
    const onevent = socket.onevent.bind(socket);
    socket.onevent = (packet) => {
      const data = packet.data || [];
      this._push(data[0], data.slice(1));
      onevent(packet);
    };
    for (const event of ["connect", "disconnect", "error", "connect_error"]) {
      socket.on(event, (...args) => this._push(`@${event}`, args));
    }
  }

  label() {
    return `v2 ${super.label()}`;
  }

  async ready() {
    await this.next("@connect");
    const transport = this.socket.io.engine.transport.name;
    if (this.mode.upgrade && transport !== "websocket") {
      await withTimeout(new Promise((resolve) => this.socket.io.engine.once("upgrade", resolve)), WAIT_MS, "the upgrade");
    }
    assert.equal(this.socket.io.engine.transport.name, this.mode.upgrade ? "websocket" : this.mode.initial);
    return this;
  }

  emit(event, ...args) {
    this.socket.emit(event, ...args);
  }

  /** Emits with an ack callback (2.x has no timeout(): this one has a bound of its own). */
  ack(event, ...args) {
    return withTimeout(
      new Promise((resolve) => this.socket.emit(event, ...args, (...res) => resolve(res))),
      WAIT_MS,
      `[v2 ${this.mode.name}] the ack of "${event}"; received: ${this.describeLog()}`,
    );
  }

  close() {
    try {
      this.socket.close();
      this.socket.io.engine?.close();
    } catch {}
  }
}

/** A socket.io-client 2.x socket on `nsp` (own Manager); `query` is its namespace's query. */
function connectV2(url, mode, { nsp = "/", ...extra } = {}) {
  const socket = ioV2(url + (nsp === "/" ? "" : nsp), { forceNew: true, reconnection: false, ...mode.opts, ...extra });
  return new V2Client(socket, mode);
}

async function connectedV2(url, mode, options) {
  return connectV2(url, mode, options).ready();
}

let server;
before(async () => {
  server = await startServer(["--allow-eio3", "1"]);
});
after(async () => {
  await server?.stop();
});

for (const mode of MODES) {
  describe(`socket.io-client 2.x [${mode.name}]`, () => {
    it("connects to / without a CONNECT of its own; its socket id is the Engine.IO sid, as Node makes it", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connectedV2(server.url, mode));
      assert.equal(c.id, c.socket.io.engine.id);
      assert.deepEqual(await c.ack("rooms"), [[c.id]]);
      assert.deepEqual(await c.next("auth"), [{}]);
    });

    it("events and acks both ways, with text beyond ASCII (v3 counts UTF-16 units)", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connectedV2(server.url, mode));
      const text = "héllo wörld 😀 ✓";
      c.emit("message", text, 1, { nested: [true, null] });
      assert.deepEqual(await c.next("message-back"), [text, 1, { nested: [true, null] }]);
      assert.deepEqual(await c.ack("message-with-ack", text, [1, 2]), [text, [1, 2]]);
      c.socket.on("question", (...args) => {
        const ack = args.pop();
        ack("answered", ...args);
      });
      c.emit("ask", 2000, "q", 7);
      assert.deepEqual(await c.next("answer"), ["answered", "q", 7]);
      c.emit("some-event", "x");
      assert.deepEqual(await c.next("catch-all"), ["some-event", "x"]);
    });

    it("binary both ways, in events and acks", async (t) => {
      const tr = tracker(t);
      const c = tr.add(await connectedV2(server.url, mode));
      const blob = pattern(3000, 7);
      c.emit("message", blob, { inner: Buffer.from([0, 1, 255]) });
      const [back, obj] = await c.next("message-back");
      assert.ok(Buffer.isBuffer(back), `a Buffer, got ${typeof back}`);
      assert.deepEqual(Buffer.from(back), blob);
      assert.deepEqual(Buffer.from(obj.inner), Buffer.from([0, 1, 255]));
      const [acked] = await c.ack("message-with-ack", Buffer.from("bytes"));
      assert.deepEqual(Buffer.from(acked), Buffer.from("bytes"));
    });

    it("rooms and broadcasts reach v2 and v4 clients alike", async (t) => {
      const tr = tracker(t);
      const old = tr.add(await connectedV2(server.url, mode));
      const current = tr.add(await connected(server.url, mode));
      const room = uniqueName("mixed");
      await old.ack("join", room);
      await current.ack("join", room);
      assert.deepEqual(await current.ack("to-room", room, { from: "v4" }), []);
      assert.deepEqual(await old.next("room-message"), [{ from: "v4" }]);
      assert.deepEqual(await current.next("room-message"), [{ from: "v4" }]);
      assert.deepEqual(await old.ack("to-room", room, { from: "v2", bytes: Buffer.from([9, 8, 7]) }), []);
      for (const c of [old, current]) {
        const [message] = await c.next("room-message");
        assert.equal(message.from, "v2");
        assert.deepEqual(Buffer.from(message.bytes), Buffer.from([9, 8, 7]));
      }
      assert.deepEqual(await current.ack("broadcast", "to-others"), []);
      assert.deepEqual(await old.next("broadcast"), ["to-others"]);
      // A message to one socket by its id: a v2 id is the Engine.IO sid.
      assert.deepEqual(await current.ack("to-socket", old.id, "direct to v2"), []);
      assert.deepEqual(await old.next("direct"), ["direct to v2"]);
      assert.deepEqual(await old.ack("to-socket", current.id, "direct to v4"), []);
      assert.deepEqual(await current.next("direct"), ["direct to v4"]);
    });

    it("namespaces: CONNECT with the query as auth, ids /nsp#sid, refusals as v2 ERROR packets", async (t) => {
      const tr = tracker(t);
      const custom = tr.add(await connectedV2(server.url, mode, { nsp: "/custom", query: { token: "abc", n: "1" } }));
      assert.deepEqual(await custom.next("auth"), [{ token: "abc", n: "1" }]);
      assert.equal(custom.id, `/custom#${custom.socket.io.engine.id}`);
      assert.deepEqual(await custom.ack("rooms"), [[custom.id]]);
      const allowed = tr.add(await connectedV2(server.url, mode, { nsp: "/private", query: { token: "secret" } }));
      assert.deepEqual(await allowed.ack("message-with-ack", "in"), ["in"]);

      const refused = tr.add(connectV2(server.url, mode, { nsp: "/private", query: { token: "wrong" } }));
      assert.deepEqual(await refused.next("@error"), [{ reason: "bad token" }]);
      const unknown = tr.add(connectV2(server.url, mode, { nsp: "/no-such-namespace" }));
      assert.deepEqual(await unknown.next("@error"), [{ message: "Invalid namespace" }]);
    });

    it("disconnects: the client's own, and the server's", async (t) => {
      const tr = tracker(t);
      const watcher = tr.add(await connected(server.url, mode));
      const leaving = tr.add(await connectedV2(server.url, mode, { nsp: "/custom" }));
      const nspId = leaving.id;
      leaving.socket.close();
      await reasonsWhen(watcher, (list) => list.includes("/custom client namespace disconnect"));
      const kicked = tr.add(await connectedV2(server.url, mode));
      kicked.emit("disconnect-me");
      assert.deepEqual(await kicked.next("@disconnect"), ["io server disconnect"]);
      assert.ok(nspId.startsWith("/custom#"));
    });
  });
}

describe("socket.io-client 2.x: transports and the heartbeat", () => {
  it("binary over polling as base64 for a client that asks for it (forceBase64)", async (t) => {
    const tr = tracker(t);
    const mode = MODES[0];
    const c = tr.add(await connectedV2(server.url, mode, { forceBase64: true }));
    c.emit("message", Buffer.from([1, 2, 3, 250]));
    const [back] = await c.next("message-back");
    assert.deepEqual(Buffer.from(back), Buffer.from([1, 2, 3, 250]));
  });

  it("binary over WebSocket as base64 text for a client that asks for it (forceBase64)", async (t) => {
    const tr = tracker(t);
    const mode = MODES[1];
    const c = tr.add(await connectedV2(server.url, mode, { forceBase64: true }));
    c.emit("message", Buffer.from([4, 5, 6]));
    const [back] = await c.next("message-back");
    assert.deepEqual(Buffer.from(back), Buffer.from([4, 5, 6]));
  });

  it("the client's pings keep it connected well past ping interval plus timeout", async (t) => {
    const fast = await startServer(["--allow-eio3", "1", "--ping-interval", "200", "--ping-timeout", "200"]);
    t.after(() => fast.stop());
    const tr = tracker(t);
    for (const mode of MODES) {
      const c = tr.add(await connectedV2(fast.url, mode));
      let pongs = 0;
      c.socket.io.engine.on("pong", () => (pongs += 1));
      // Each pong answers one of the client's pings; three of them span more than one
      // interval plus timeout, which a client that did not ping would not survive.
      while (pongs < 3) await withTimeout(new Promise((resolve) => c.socket.io.engine.once("pong", resolve)), WAIT_MS, "a pong");
      assert.equal(c.socket.connected, true);
      assert.deepEqual(await c.ack("message-with-ack", mode.name), [mode.name]);
    }
  });
});

describe("Engine.IO v3 on the wire", () => {
  const base = () => `${server.url}/socket.io/?EIO=3&transport=polling`;

  async function openV3(query = "") {
    const res = await httpGet(base() + query);
    assert.equal(res.status, 200);
    assert.equal(res.headers["content-type"], "text/plain; charset=UTF-8");
    const body = res.body.toString();
    const match = /^(\d+):0(\{.*?\})(.*)$/s.exec(body);
    assert.ok(match, `a v3 payload with the open packet first: ${body}`);
    assert.equal(Number(match[1]), match[2].length + 1);
    const open = JSON.parse(match[2]);
    assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
    return { sid: open.sid, rest: match[3] };
  }

  async function poll(sid, query = "") {
    const res = await httpGet(`${base()}&sid=${sid}${query}`);
    assert.equal(res.status, 200);
    return res;
  }

  it("framing: open, then CONNECT without a payload, a ping answered by a pong, text as <length>:<packet>", async () => {
    const { sid, rest } = await openV3();
    const connect = rest || (await poll(sid)).body.toString();
    // CONNECT without a payload, then the test server's `auth` event (the auth of / is {}).
    assert.equal(connect, '2:4013:42["auth",{}]');
    const post = await httpRequest("POST", `${base()}&sid=${sid}`, "1:2", { "Content-Type": "text/plain;charset=UTF-8" });
    assert.equal(post.status, 200);
    assert.equal(post.body.toString(), "ok");
    assert.equal((await poll(sid)).body.toString(), "1:3");
    // An event with a non-ASCII string: lengths in UTF-16 units, as a JavaScript client counts.
    const event = '42["message","é😀"]';
    await httpRequest("POST", `${base()}&sid=${sid}`, `${event.length}:${event}`, { "Content-Type": "text/plain;charset=UTF-8" });
    const back = '42["message-back","é😀"]';
    const body = (await poll(sid)).body.toString();
    assert.equal(body, `${back.length}:${back}`);
    await httpRequest("POST", `${base()}&sid=${sid}`, "1:1", { "Content-Type": "text/plain;charset=UTF-8" });
  });

  it("binary: the binary payload format for a client that takes binary, b4 base64 for b64=1", async () => {
    for (const b64 of [false, true]) {
      const query = b64 ? "&b64=1" : "";
      const { sid, rest } = await openV3(query);
      if (!rest) await poll(sid, query);  // the CONNECT
      // A binary event posted in the binary payload format: 0, length digits, 255, text; 1, ..., 255, 4 and bytes.
      const text = '451-["message",{"_placeholder":true,"num":0}]';
      const digits = (n) => [...String(n)].map(Number);
      const payload = Buffer.concat([
        Buffer.from([0, ...digits(text.length), 255]),
        Buffer.from(text),
        Buffer.from([1, ...digits(4), 255, 4, 1, 2, 3]),
      ]);
      const post = await httpRequest("POST", `${base()}&sid=${sid}${query}`, payload, { "Content-Type": "application/octet-stream" });
      assert.equal(post.status, 200);
      const res = await poll(sid, query);
      const back = '451-["message-back",{"_placeholder":true,"num":0}]';
      if (b64) {
        assert.equal(res.headers["content-type"], "text/plain; charset=UTF-8");
        assert.equal(res.body.toString(), `${back.length}:${back}6:b4AQID`);
      } else {
        assert.equal(res.headers["content-type"], "application/octet-stream");
        const expected = Buffer.concat([
          Buffer.from([0, ...digits(back.length), 255]),
          Buffer.from(back),
          Buffer.from([1, ...digits(4), 255, 4, 1, 2, 3]),
        ]);
        assert.deepEqual(res.body, expected);
      }
      await httpRequest("POST", `${base()}&sid=${sid}${query}`, "1:1", { "Content-Type": "text/plain;charset=UTF-8" });
    }
  });

  it("a v3 session refuses requests of protocol 4, and a malformed payload ends it", async () => {
    const { sid } = await openV3();
    const mismatch = await httpGet(`${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(mismatch.status, 400);
    assert.deepEqual(JSON.parse(mismatch.body.toString()), { code: 3, message: "Bad request" });
    const bad = await httpRequest("POST", `${base()}&sid=${sid}`, "9:4short", { "Content-Type": "text/plain;charset=UTF-8" });
    assert.equal(bad.status, 400);
    const after = await httpGet(`${base()}&sid=${sid}`);
    assert.equal(after.status, 400, "the session has ended");
  });

  it("a client that stops pinging is dropped after ping interval plus ping timeout", async (t) => {
    const fast = await startServer(["--allow-eio3", "1", "--ping-interval", "200", "--ping-timeout", "200"]);
    t.after(() => fast.stop());
    const open = await httpGet(`${fast.url}/socket.io/?EIO=3&transport=polling`);
    const sid = JSON.parse(/^\d+:0(\{.*?\})/s.exec(open.body.toString())[1]).sid;
    // Long polls until the close packet comes: never a ping from the server in v3.
    const seen = [];
    let ended = false;
    for (let i = 0; i < 10 && !ended; i++) {
      const res = await httpGet(`${fast.url}/socket.io/?EIO=3&transport=polling&sid=${sid}`);
      // The close packet answers the poll held when the time ran out; a poll after it finds no session.
      ended = res.status === 400 || res.body.toString().endsWith("1:1");
      if (res.status === 200) seen.push(res.body.toString());
    }
    // Records split at their length prefixes: a server ping would be a record "2".
    assert.ok(!seen.some((body) => body.split(/\d+:/).includes("2")), `no server ping: ${JSON.stringify(seen)}`);
    assert.ok(ended, `the session closes: ${JSON.stringify(seen)}`);
  });
});

describe("allow_eio3 off (the default)", () => {
  let plain;
  before(async () => {
    plain = await startServer();
  });
  after(async () => {
    await plain?.stop();
  });

  it("refuses an EIO=3 handshake with Node's error JSON, and a 2.x client cannot connect", async (t) => {
    const expected = { code: 5, message: "Unsupported protocol version" };
    const res = await httpGet(`${plain.url}/socket.io/?EIO=3&transport=polling`);
    assert.equal(res.status, 400);
    assert.equal(res.headers["content-type"], "application/json");
    assert.deepEqual(JSON.parse(res.body.toString()), expected);
    const refusal = await withTimeout(
      new Promise((resolve, reject) => {
        const ws = new WebSocket(`ws://127.0.0.1:${plain.port}/socket.io/?EIO=3&transport=websocket`);
        ws.on("open", () => reject(new Error("the WebSocket opened")));
        ws.on("error", () => {});
        ws.on("unexpected-response", (req, response) => {
          const chunks = [];
          response.on("data", (chunk) => chunks.push(chunk));
          response.on("end", () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString() }));
        });
      }),
      WAIT_MS,
      "the refused WebSocket handshake",
    );
    assert.equal(refusal.status, 400);
    assert.deepEqual(JSON.parse(refusal.body), expected);
    const tr = tracker(t);
    const c = tr.add(connectV2(plain.url, MODES[0]));
    await c.next("@connect_error");
    assert.equal(c.socket.connected, false);
  });
});

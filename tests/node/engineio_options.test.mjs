// Engine.IO options with the stock client over each transport: allow_request refusing and
// admitting handshakes (connect_error carries the refusal's message), initial_packet reaching the
// client as an event, the headers hooks seen by a plain HTTP client, and polling with compression
// on (the default): plain for a client that does not ask, gzip for one that does.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import zlib from "node:zlib";
import { MODES, startServer, connect, connected, tracker, httpRequest } from "./support.mjs";

describe("allow_request", () => {
  let server;
  before(async () => {
    server = await startServer(["--allow-request-query", "token=ok"]);
  });
  after(async () => {
    await server?.stop();
  });

  for (const mode of MODES) {
    it(`[${mode.name}] a refused handshake is a connect_error; an allowed one connects`, async (t) => {
      const track = tracker(t);
      const refused = track.add(connect(server.url, mode, { query: { token: "no" } }));
      const err = await refused.connectError();
      // The Engine.IO refusal reaches socket.io-client as a transport error (over polling, with
      // the status; its body is checked in tests/protocol).
      assert.ok(err instanceof Error);
      if (mode.initial === "polling") assert.equal(err.description, 403);
      const admitted = track.add(await connected(server.url, mode, { query: { token: "ok" } }));
      admitted.emit("message", "hi");
      assert.deepEqual(await admitted.next("message-back"), ["hi"]);
    });
  }
});

describe("initial_packet", () => {
  let server;
  before(async () => {
    server = await startServer(["--initial-packet", '2["welcome","hi"]']);
  });
  after(async () => {
    await server?.stop();
  });

  for (const mode of MODES) {
    it(`[${mode.name}] the client's "/" socket gets it as an event once connected`, async (t) => {
      const track = tracker(t);
      const client = track.add(await connected(server.url, mode));
      assert.deepEqual(await client.next("welcome"), ["hi"]);
    });
  }
});

describe("headers hooks", () => {
  let server;
  before(async () => {
    server = await startServer(["--header", "X-Every=1", "--initial-header", "X-First=yes"]);
  });
  after(async () => {
    await server?.stop();
  });

  it("the handshake gets both, the session's requests the every-response one", async () => {
    const open = await httpRequest("GET", `${server.url}/socket.io/?EIO=4&transport=polling`);
    assert.equal(open.status, 200);
    assert.equal(open.headers["x-every"], "1");
    assert.equal(open.headers["x-first"], "yes");
    const sid = JSON.parse(open.body.toString().slice(1)).sid;
    const post = await httpRequest("POST", `${server.url}/socket.io/?EIO=4&transport=polling&sid=${sid}`, "40");
    assert.equal(post.headers["x-every"], "1");
    assert.equal(post.headers["x-first"], undefined);
  });

  for (const mode of MODES) {
    it(`[${mode.name}] clients connect as usual`, async (t) => {
      const track = tracker(t);
      const client = track.add(await connected(server.url, mode));
      client.emit("message", "hi");
      assert.deepEqual(await client.next("message-back"), ["hi"]);
    });
  }
});

describe("http_compression (on by default)", () => {
  let server;
  before(async () => {
    server = await startServer([]);
  });
  after(async () => {
    await server?.stop();
  });

  // socket.io-client under Node (xmlhttprequest-ssl) neither asks for compression nor inflates: it
  // must get plain answers. (Browsers ask and inflate: tests/browser load the page that way.)
  it("a polling client that does not ask gets large messages plain and intact", async (t) => {
    const track = tracker(t);
    const client = track.add(await connected(server.url, MODES[0]));
    const long = "compressible ".repeat(5000);
    client.emit("message", long, Buffer.from(long));
    const [text, bytes] = await client.next("message-back");
    assert.equal(text, long);
    assert.equal(Buffer.from(bytes).toString(), long);
  });

  it("a long poll's answer over the threshold is gzip that inflates to the packets", async () => {
    const base = `${server.url}/socket.io/?EIO=4&transport=polling`;
    const sid = JSON.parse((await httpRequest("GET", base)).body.toString().slice(1)).sid;
    await httpRequest("POST", `${base}&sid=${sid}`, "40");
    await httpRequest("GET", `${base}&sid=${sid}`);
    const long = "y".repeat(5000);
    await httpRequest("POST", `${base}&sid=${sid}`, `42["message","${long}"]`);
    const got = await httpRequest("GET", `${base}&sid=${sid}`, undefined, { "Accept-Encoding": "gzip" });
    assert.equal(got.headers["content-encoding"], "gzip");
    assert.ok(got.body.length < long.length / 10);
    assert.deepEqual(zlib.gunzipSync(got.body).toString().split("\x1e"), [`42["message-back","${long}"]`]);
  });
});

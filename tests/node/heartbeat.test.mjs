// Heartbeat with --ping-interval 300 --ping-timeout 1000: a socket.io-client stays connected
// (it answers pings), and a raw Engine.IO client that stops answering is dropped with
// "ping timeout" (raw WebSocket via `ws`, raw long-polling via node:http).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  MODES,
  WAIT_MS,
  WebSocket,
  startServer,
  connected,
  tracker,
  sleep,
  withTimeout,
  reasonsWhen,
  httpGet,
  httpRequest,
} from "./support.mjs";

// Pings every 300 ms, with a second of grace: the raw clients that stop answering are dropped
// within 1.3 s, while the socket.io-clients that must stay connected (and the observers that
// report the raw clients' reasons) cannot be dropped for a late pong on a loaded machine (ctest
// runs suites side by side).
const HEARTBEAT = ["--ping-interval", "300", "--ping-timeout", "1000"];

function checkHandshake(open, upgrades) {
  assert.deepEqual(Object.keys(open).sort(), ["maxPayload", "pingInterval", "pingTimeout", "sid", "upgrades"]);
  assert.equal(typeof open.sid, "string");
  assert.deepEqual(open.upgrades, upgrades);
  assert.equal(open.pingInterval, 300);
  assert.equal(open.pingTimeout, 1000);
  assert.equal(open.maxPayload, 1000000);
}

async function heartbeatServer(t) {
  const server = await startServer(HEARTBEAT);
  t.after(() => server.stop());
  return server;
}

describe("heartbeat", { concurrency: true }, () => {
  for (const mode of MODES) {
    it(`[${mode.name}] a client that answers pings stays connected for 2 s`, async (t) => {
      const tr = tracker(t);
      const server = await heartbeatServer(t);
      const c = tr.add(await connected(server.url, mode));
      let pings = 0;
      c.socket.io.engine.on("ping", () => pings++);
      await sleep(2000);
      assert.deepEqual(c.all("disconnect"), [], `unexpected disconnect: ${c.describeLog()}`);
      assert.equal(c.socket.connected, true);
      assert.ok(pings >= 3, `the server kept pinging (${pings} pings in 2 s at a 300 ms interval)`);
      assert.deepEqual(await c.ack("message-with-ack", "after 2 s"), ["after 2 s"]);
      assert.deepEqual(await c.ack("disconnect-reasons"), [[]]);
    });
  }

  it("[raw websocket] an engine that stops answering pings is closed with ping timeout", async (t) => {
    const tr = tracker(t);
    const server = await heartbeatServer(t);
    const observer = tr.add(await connected(server.url, MODES[1]));

    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`);
    t.after(() => ws.terminate());
    const frames = [];
    let onFrame = null;
    ws.on("message", (data, isBinary) => {
      frames.push(isBinary ? data : data.toString());
      onFrame?.();
    });
    const closed = new Promise((resolve) => ws.on("close", (code) => resolve(code)));
    const nextFrame = (i) =>
      withTimeout(
        new Promise((resolve) => {
          const check = () => {
            if (frames.length > i) {
              onFrame = null;
              resolve(frames[i]);
            }
          };
          onFrame = check;
          check();
        }),
        WAIT_MS,
        `raw websocket frame #${i}; frames so far ${JSON.stringify(frames)}`,
      );

    const open = await nextFrame(0);
    assert.equal(open[0], "0");
    checkHandshake(JSON.parse(open.slice(1)), []);
    ws.send("40");
    const connect = await nextFrame(1);
    assert.match(connect, /^40\{"sid":"[^"]+"\}$/);
    assert.equal(await nextFrame(2), '42["auth",{}]');
    // Answer the first ping, then stop answering.
    assert.equal(await nextFrame(3), "2");
    ws.send("3");
    assert.equal(await nextFrame(4), "2");
    await withTimeout(closed, WAIT_MS, "the server closing the WebSocket after the ping timeout");
    assert.deepEqual(frames.slice(5).filter((f) => f !== "2"), [], "only pings after the last pong");

    const reasons = await reasonsWhen(observer, (list) => list.length > 0);
    assert.deepEqual(reasons, ["/ ping timeout"]);
    assert.equal(observer.socket.connected, true);
  });

  it("[raw polling] an engine that stops polling is closed with ping timeout", async (t) => {
    const tr = tracker(t);
    const server = await heartbeatServer(t);
    const observer = tr.add(await connected(server.url, MODES[0]));
    const base = `${server.url}/socket.io/?EIO=4&transport=polling`;

    const hs = await httpGet(base);
    assert.equal(hs.status, 200);
    const text = hs.body.toString();
    assert.equal(text[0], "0");
    const open = JSON.parse(text.slice(1));
    checkHandshake(open, ["websocket"]);
    const url = `${base}&sid=${encodeURIComponent(open.sid)}`;

    const post = await httpRequest("POST", url, "40", { "Content-Type": "text/plain;charset=UTF-8" });
    assert.equal(post.status, 200);
    assert.equal(post.body.toString(), "ok");
    // Read until the CONNECT reply and the auth event arrived (a ping may come along; unanswered).
    let received = "";
    while (!received.includes('42["auth",{}]')) {
      const get = await httpGet(url);
      assert.equal(get.status, 200, `GET failed: ${get.body}`);
      received += (received ? "\x1e" : "") + get.body.toString();
    }
    const packets = received.split("\x1e");
    assert.match(packets[0], /^40\{"sid":"[^"]+"\}$/);
    assert.deepEqual(packets.filter((p) => p !== "2"), [packets[0], '42["auth",{}]']);

    // Stop polling: no pong will come, so the server must time the session out.
    const reasons = await reasonsWhen(observer, (list) => list.length > 0);
    assert.deepEqual(reasons, ["/ ping timeout"]);
    // Node drops a timed-out session at once: the next request with its sid gets 400.
    const late = await httpGet(url);
    assert.equal(
      late.status,
      400,
      `the timed-out session must be gone, got ${late.status} ${JSON.stringify(late.body.toString())}`,
    );
  });
});

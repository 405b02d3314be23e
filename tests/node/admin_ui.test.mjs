// The Socket.IO Admin UI (@socket.io/admin-ui): the admin namespace driven with socket.io-client
// as the UI drives it (login, config, all_sockets, live notifications, server_stats, the join,
// leave and _disconnect commands), and its messages held against those of Node's own
// `instrument()` from the same package, run here on Node's socket.io.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import http from "node:http";
import {
  MODES,
  SHARDS,
  WAIT_MS,
  startServer,
  connected,
  connect,
  manager,
  socketOn,
  tracker,
  uniqueName,
  withTimeout,
} from "./support.mjs";

const require = createRequire(import.meta.url);
const bcrypt = require("bcryptjs"); // the admin UI package's own dependency
const { Server: NodeServer } = require("socket.io");
const { instrument } = require("@socket.io/admin-ui");

const USER = "admin";
const PASSWORD = "s3cret pass";
const HASH = bcrypt.hashSync(PASSWORD, 4); // $2a$04$...: cost 4 keeps the tests quick
const FEATURES = ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS", "ALL_EVENTS"];

/** Connects to the admin namespace the way the UI does, with a "/" socket on the same connection. */
async function admin(tr, url, mode, auth = { username: USER, password: PASSWORD }, nsp = "/admin") {
  const mgr = tr.mgr(manager(url, mode));
  const panel = tr.add(socketOn(mgr, mode, nsp, auth));
  const main = tr.add(socketOn(mgr, mode, "/"));
  await panel.ready();
  await main.ready();
  return { panel, main };
}

/** Waits for an admin message of `event` whose arguments satisfy `match`. */
async function until(client, event, match, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const args = await client.next(event, Math.max(1, deadline - Date.now()));
    if (match(...args)) return args;
  }
}

const sortedKeys = (object) => Object.keys(object).sort();

describe("admin UI: login", () => {
  let server;
  before(async () => {
    server = await startServer(["--admin-auth", `${USER}:${HASH}`]);
  });
  after(async () => {
    await server?.stop();
  });

  it("a wrong password, a wrong user and no credentials are refused", async (t) => {
    const tr = tracker(t);
    for (const auth of [{ username: USER, password: "wrong" }, { username: "root", password: PASSWORD }, {}]) {
      const c = tr.add(connect(server.url, MODES[1], { nsp: "/admin", auth }));
      const err = await c.connectError();
      assert.equal(err.message, "invalid credentials", JSON.stringify(auth));
    }
  });

  it("the right credentials get config and a session id that logs in again without the password", async (t) => {
    const tr = tracker(t);
    const { panel } = await admin(tr, server.url, MODES[1]);
    const [config] = await panel.next("config");
    assert.deepEqual(config, { supportedFeatures: FEATURES });
    const [sessionId] = await panel.next("session");
    assert.match(sessionId, /^\S{8,}$/);
    const again = tr.add(connect(server.url, MODES[1], { nsp: "/admin", auth: { sessionId } }));
    await again.ready();
    await again.next("config");
    const forged = tr.add(connect(server.url, MODES[1], { nsp: "/admin", auth: { sessionId: "not-a-session" } }));
    assert.equal((await forged.connectError()).message, "invalid credentials");
  });

  it("a $2b$ hash (libcrypt's, Python's bcrypt) works as bcryptjs's $2a$ does", async (t) => {
    const other = await startServer(["--admin-auth", `${USER}:${HASH.replace(/^\$2a\$/, "$2b$")}`]);
    t.after(() => other.stop());
    const tr = tracker(t);
    const { panel } = await admin(tr, other.url, MODES[0]);
    assert.deepEqual((await panel.next("config"))[0].supportedFeatures, FEATURES);
  });
});

for (const mode of MODES) {
  describe(`admin UI: watching and acting [${mode.name}]`, () => {
    let server;
    before(async () => {
      server = await startServer(["--admin-auth", `${USER}:${HASH}`, "--admin-stats-interval", "200"]);
    });
    after(async () => {
      await server?.stop();
    });

    it("all_sockets lists the sockets already there, with handshake, transport and rooms", async (t) => {
      const tr = tracker(t);
      const client = tr.add(await connected(server.url, mode, { query: { who: "listed" } }));
      const room = uniqueName();
      await client.ack("join", room);
      const { panel } = await admin(tr, server.url, mode);
      const [sockets] = await panel.next("all_sockets");
      const mine = sockets.find((s) => s.id === client.id);
      assert.ok(mine, `client ${client.id} in ${JSON.stringify(sockets.map((s) => s.id))}`);
      assert.equal(mine.nsp, "/");
      assert.equal(mine.transport, client.socket.io.engine.transport.name);
      assert.equal(mine.clientId, client.socket.io.engine.id.slice(0, 12));
      assert.deepEqual(mine.rooms.sort(), [client.id, room].sort());
      assert.equal(mine.handshake.query.who, "listed");
      assert.equal(mine.handshake.address, "127.0.0.1");
      assert.equal(mine.handshake.secure, false);
      assert.ok(mine.handshake.url.startsWith("/socket.io/"), mine.handshake.url);
      assert.equal(typeof mine.handshake.headers, "object");
      assert.ok(sockets.some((s) => s.nsp === "/admin"), "the admin socket itself is listed, as Node lists it");
    });

    it("connections, rooms, events and disconnections are reported as they happen", async (t) => {
      const tr = tracker(t);
      const { panel } = await admin(tr, server.url, mode);
      await panel.next("config");
      const client = tr.add(await connected(server.url, mode));
      const [socket, when] = await until(panel, "socket_connected", (s) => s.id === client.id);
      assert.equal(socket.nsp, "/");
      assert.ok(!Number.isNaN(Date.parse(when)), when);
      const room = uniqueName();
      await client.ack("join", room);
      await until(panel, "room_joined", (nsp, r, id) => nsp === "/" && r === room && id === client.id);
      await client.ack("message-with-ack", "hello", 42);
      const [, , received] = await until(panel, "event_received", (nsp, id, args) => id === client.id && args[0] === "message-with-ack");
      assert.deepEqual(received, ["message-with-ack", "hello", 42]);
      client.emit("message", "echo me");
      const [, , sent] = await until(panel, "event_sent", (nsp, id, args) => id === client.id && args[0] === "message-back");
      assert.deepEqual(sent, ["message-back", "echo me"]);
      await client.ack("leave", room);
      await until(panel, "room_left", (nsp, r, id) => r === room && id === client.id);
      const id = client.id; // socket.io-client forgets it on disconnect
      client.close();
      const [nsp, , reason] = await until(panel, "socket_disconnected", (n, gone) => gone === id);
      assert.equal(nsp, "/");
      assert.ok(["client namespace disconnect", "transport close"].includes(reason), reason);
    });

    it("emit, join, leave and _disconnect act on the client's socket", async (t) => {
      const tr = tracker(t);
      const { panel } = await admin(tr, server.url, mode);
      await panel.next("config");
      const client = tr.add(await connected(server.url, mode));
      panel.emit("emit", "/", client.id, "from-the-ui", { n: 1 }, "two");
      assert.deepEqual(await client.next("from-the-ui"), [{ n: 1 }, "two"]);
      const room = uniqueName("admin-room");
      panel.emit("join", "/", room, client.id);
      await until(panel, "room_joined", (nsp, r, id) => r === room && id === client.id);
      assert.deepEqual((await client.ack("rooms"))[0].sort(), [client.id, room].sort());
      panel.emit("leave", "/", room, client.id);
      await until(panel, "room_left", (nsp, r, id) => r === room && id === client.id);
      assert.deepEqual(await client.ack("rooms"), [[client.id]]);
      panel.emit("_disconnect", "/", false, client.id);
      const [reason] = await client.next("disconnect");
      assert.equal(reason, "io server disconnect");
    });

    it("server_stats: server, clients, namespaces and aggregated counts", async (t) => {
      const tr = tracker(t);
      const { panel } = await admin(tr, server.url, mode);
      const client = tr.add(await connected(server.url, mode));
      await client.fence();
      const seen = new Set();
      const types = new Set();
      let stats;
      const deadline = Date.now() + WAIT_MS;
      // Every shard reports for itself; the counts of the traffic above reach one of them.
      while (seen.size < SHARDS || !types.has("packetsIn") || !types.has("bytesOut")) {
        [stats] = await panel.next("server_stats", Math.max(1, deadline - Date.now()));
        seen.add(stats.serverId);
        for (const event of stats.aggregatedEvents) types.add(event.type);
      }
      assert.deepEqual(sortedKeys(stats), [
        "aggregatedEvents", "clientsCount", "hostname", "namespaces", "pid", "pollingClientsCount", "serverId", "uptime",
      ]);
      assert.equal(stats.pid, server.child.pid);
      assert.ok(stats.uptime > 0);
      assert.ok(stats.namespaces.some((n) => n.name === "/admin"), JSON.stringify(stats.namespaces));
      assert.ok(stats.namespaces.some((n) => n.name === "/"), JSON.stringify(stats.namespaces));
      for (const event of stats.aggregatedEvents) {
        assert.equal(event.timestamp % 1000, 0);
        assert.ok(event.count > 0);
      }
      if (SHARDS > 1) assert.ok([...seen].every((id) => /#\d+$/.test(id)), [...seen].join());
    });
  });
}

describe("admin UI: options", () => {
  it("read-only: no commands offered, and those sent are not obeyed", async (t) => {
    const server = await startServer(["--admin-auth", "none", "--admin-readonly", "1"]);
    t.after(() => server.stop());
    const tr = tracker(t);
    const { panel, main } = await admin(tr, server.url, MODES[1], undefined);
    const [config] = await panel.next("config");
    assert.deepEqual(config, { supportedFeatures: ["AGGREGATED_EVENTS", "ALL_EVENTS"] });
    const client = tr.add(await connected(server.url, MODES[1]));
    panel.emit("join", "/", "never", client.id);
    panel.emit("_disconnect", "/", true, client.id);
    await main.fence(); // the same connection: the commands above were handled before it
    await client.fence();
    assert.equal(client.socket.connected, true);
    assert.deepEqual(await client.ack("rooms"), [[client.id]]);
  });

  it("production: config and server_stats only, no per-socket messages", async (t) => {
    const server = await startServer(["--admin-auth", "none", "--admin-mode", "production", "--admin-stats-interval", "100"]);
    t.after(() => server.stop());
    const tr = tracker(t);
    const { panel } = await admin(tr, server.url, MODES[1], undefined);
    const [config] = await panel.next("config");
    assert.deepEqual(config.supportedFeatures, FEATURES.filter((f) => f !== "ALL_EVENTS"));
    const client = tr.add(await connected(server.url, MODES[1]));
    await client.ack("join", "r");
    for (let i = 0; i < 2 * SHARDS; i++) await panel.next("server_stats"); // ticks after the traffic
    for (const event of ["all_sockets", "socket_connected", "room_joined", "event_received", "event_sent"])
      assert.deepEqual(panel.all(event), [], event);
  });

  it("another namespace name, and no login", async (t) => {
    const server = await startServer(["--admin-auth", "none", "--admin-namespace", "/watch"]);
    t.after(() => server.stop());
    const tr = tracker(t);
    const { panel } = await admin(tr, server.url, MODES[1], undefined, "/watch");
    assert.deepEqual((await panel.next("config"))[0].supportedFeatures, FEATURES);
  });

  it("the UI's MessagePack parser choice, against a server with the msgpack parser", async (t) => {
    const server = await startServer(["--admin-auth", "none", "--parser", "msgpack"]);
    t.after(() => server.stop());
    const tr = tracker(t);
    const parser = require("socket.io-msgpack-parser");
    const { panel } = await admin(tr, server.url, { ...MODES[1], opts: { ...MODES[1].opts, parser } }, undefined);
    assert.deepEqual((await panel.next("config"))[0].supportedFeatures, FEATURES);
    const [sockets] = await panel.next("all_sockets");
    assert.ok(sockets.some((s) => s.nsp === "/admin"));
  });

  it("a password that is not a bcrypt hash stops the server at start", async () => {
    await assert.rejects(startServer(["--admin-auth", "admin:plain-text"]), /bcrypt hash/);
  });
});

describe("admin UI: the same messages as Node's instrument()", () => {
  /** What the UI gets on login and on a client's arrival: the shapes, not the values. */
  async function sample(t, url) {
    const tr = tracker(t);
    const { panel } = await admin(tr, url, MODES[1]);
    const [config] = await panel.next("config");
    const client = tr.add(await connected(url, MODES[1]));
    const [socket, when] = await until(panel, "socket_connected", (s) => s.id === client.id);
    // The first report with counts in it (a shard without traffic reports none).
    const [stats] = await until(panel, "server_stats", (s) => s.aggregatedEvents.length > 0);
    return {
      config,
      socketKeys: sortedKeys(socket),
      handshakeKeys: sortedKeys(socket.handshake),
      when: typeof when,
      statsKeys: sortedKeys(stats),
      namespaceKeys: sortedKeys(stats.namespaces[0]),
      eventKeys: [...new Set(stats.aggregatedEvents.map((e) => sortedKeys(e).filter((k) => k !== "subType").join()))],
    };
  }

  it("config, socket_connected and server_stats have Node's fields", async (t) => {
    const httpServer = http.createServer();
    const nodeIo = new NodeServer(httpServer);
    instrument(nodeIo, { auth: { type: "basic", username: USER, password: HASH }, mode: "development" });
    await new Promise((resolve) => httpServer.listen(0, "127.0.0.1", resolve));
    t.after(() => withTimeout(new Promise((resolve) => nodeIo.close(resolve)), WAIT_MS, "closing Node's server"));
    const server = await startServer(["--admin-auth", `${USER}:${HASH}`, "--admin-stats-interval", "2000"]);
    t.after(() => server.stop());

    const theirs = await sample(t, `http://127.0.0.1:${httpServer.address().port}`);
    const ours = await sample(t, server.url);
    assert.deepEqual(ours, theirs);
  });
});

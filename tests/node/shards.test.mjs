// ShardedServer across its shards (test_server --shards 3): clients spread over every shard,
// room broadcasts reaching each member once wherever it is, to(socket id) and
// sockets_join / sockets_leave / disconnect_sockets across shards, polling sessions and
// upgrades routed to their shard, sids naming no shard, and stop() with clients on every shard.
//
// With CHAT_TEST_WORKERS set, the same suite runs against WorkerProcesses (test_server --workers 3):
// three processes behind one port, the supervisor routing each connection by its request line,
// each worker a Server in the Redis cluster of a redis-server started here, so that rooms,
// broadcasts and the sockets_* calls cross processes through Redis; plus a worker killed and
// started again.
//
// Each client learns its shard from the `shard` event's ack. The router hands new connections to
// the shards in turn, so a handful of clients covers all three; requests naming a session must
// reach its shard, or they would get "Session ID unknown" from another one.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import {
  MODES,
  WAIT_MS,
  RedisServer,
  WebSocket,
  sleep,
  startServer,
  connected,
  tracker,
  uniqueName,
  withTimeout,
  httpGet,
  httpRequest,
} from "./support.mjs";

const SHARDS = 3;
const CLOSE_REASONS = ["io server disconnect", "transport close"];

const WORKERS = Boolean(process.env.CHAT_TEST_WORKERS);

let redis;
/** test_server with SHARDS shards, or SHARDS worker processes in a Redis cluster (all of them in it). */
async function startSharded() {
  if (!WORKERS) return startServer(["--shards", String(SHARDS)]);
  redis ??= await RedisServer.start();
  // A cluster of its own on the shared redis-server: its own channel prefix.
  const started = await startServer(["--workers", String(SHARDS), "--redis", redis.url, "--redis-key", uniqueName("workers")]);
  const probe = await connected(started.url, MODES[0]);
  try {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const [count] = await probe.ack("server-count");
      if (count === SHARDS) break;
      if (Date.now() > deadline) throw new Error(`${count} of ${SHARDS} workers in the cluster`);
      await sleep(50);
    }
  } finally {
    probe.close();
  }
  return started;
}

let server;
before(async () => {
  server = await startSharded();
});
after(async () => {
  await server?.stop();
  await redis?.kill();
});

/** Connects `n` clients (in parallel) and records each one's shard in `client.shard`. */
async function spread(url, mode, n, tr, opts) {
  const clients = await Promise.all(Array.from({ length: n }, () => connected(url, mode, opts)));
  for (const c of clients) {
    tr.add(c);
    const [shard] = await c.ack("shard");
    assert.ok(Number.isInteger(shard) && shard >= 0 && shard < SHARDS, `bad shard ${shard}`);
    c.shard = shard;
  }
  return clients;
}

/** Asserts every shard serves at least one of `clients`; returns the count per shard. */
function assertEveryShard(clients) {
  const counts = Array(SHARDS).fill(0);
  for (const c of clients) counts[c.shard] += 1;
  assert.ok(counts.every((n) => n > 0), `clients per shard: ${JSON.stringify(counts)}`);
  return counts;
}

/**
 * Two groups spread over every shard: `inside` (two clients per shard), all joined to a new room
 * named after `prefix`, and `outside` (one per shard), in no room of their own choosing.
 */
async function roomOverEveryShard(mode, tr, prefix) {
  const inside = await spread(server.url, mode, 2 * SHARDS, tr);
  const outside = await spread(server.url, mode, SHARDS, tr);
  assertEveryShard(inside);
  assertEveryShard(outside);
  const room = uniqueName(prefix);
  for (const c of inside) await c.ack("join", room);
  return { inside, outside, room };
}

/**
 * Asserts `client`'s rooms. Across shards a sockets_join or sockets_leave is applied everywhere
 * before its ack; across worker processes it goes through Redis, which Node's adapter does not
 * wait for either (its ack comes first, the other workers apply it as its message arrives), so
 * there the rooms are asked again until they match, within WAIT_MS.
 */
async function assertRooms(client, expected) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const [rooms] = await client.ack("rooms");
    if (!WORKERS || Date.now() > deadline || JSON.stringify(rooms) === JSON.stringify(expected)) {
      assert.deepEqual(rooms, expected);
      return;
    }
    await sleep(20);
  }
}

function tagged(client, event, tag) {
  return client.all(event).filter((args) => args[0] && args[0].tag === tag);
}

/**
 * After a broadcast tagged `tag` reached every client of `receivers` once, sends a second one
 * (`marker`) from `sender` to `room` and waits for it everywhere: a duplicate of the first would
 * have arrived before it on each connection, so counting afterwards is exact.
 */
async function assertExactlyOnce(receivers, event, tag, sender, emitMarker) {
  const marker = `${tag}-marker`;
  assert.deepEqual(await emitMarker(marker), []);
  await Promise.all(
    receivers.map(async (c) => {
      for (;;) {
        const [payload] = await c.next(event);
        if (payload.tag === marker) break;
      }
    }),
  );
  for (const c of receivers) assert.equal(tagged(c, event, tag).length, 1, `shard ${c.shard} got ${tag} once`);
}

for (const mode of MODES) {
  describe(`shards [${mode.name}]`, () => {
    it("clients spread over every shard, and each shard serves its own clients' events", async (t) => {
      const tr = tracker(t);
      const clients = await spread(server.url, mode, 3 * SHARDS, tr);
      assertEveryShard(clients);
      for (const c of clients) {
        c.emit("message", "on shard", c.shard);
        assert.deepEqual(await c.next("message-back"), ["on shard", c.shard]);
      }
    });

    it("a room broadcast reaches its members on every shard exactly once, and nobody else", async (t) => {
      const tr = tracker(t);
      const { inside: members, outside: outsiders, room } = await roomOverEveryShard(mode, tr, "shards");

      for (const sender of [members[0], outsiders[1]]) {
        const tag = uniqueName("room-once");
        assert.deepEqual(await sender.ack("to-room", room, { tag }), []);
        await Promise.all(members.map(async (c) => assert.deepEqual(await c.next("room-message"), [{ tag }])));
        await assertExactlyOnce(members, "room-message", tag, sender, (marker) =>
          sender.ack("to-room", room, { tag: marker }),
        );
      }
      await Promise.all(outsiders.map((c) => c.fence()));
      for (const c of outsiders) assert.deepEqual(c.all("room-message"), [], `outsider on shard ${c.shard}`);
    });

    it("broadcast, broadcast-all and except-room cover every shard", async (t) => {
      const tr = tracker(t);
      const clients = await spread(server.url, mode, 2 * SHARDS, tr);
      assertEveryShard(clients);
      const [sender, ...others] = clients;

      const tag = uniqueName("others");
      assert.deepEqual(await sender.ack("broadcast", { tag }), []);
      await Promise.all(others.map(async (c) => assert.deepEqual(await c.next("broadcast"), [{ tag }])));
      await assertExactlyOnce(others, "broadcast", tag, sender, (marker) => sender.ack("broadcast", { tag: marker }));
      assert.deepEqual(tagged(sender, "broadcast", tag), []);

      const all = uniqueName("all");
      assert.deepEqual(await sender.ack("broadcast-all", { tag: all }), []);
      await Promise.all(clients.map(async (c) => assert.deepEqual(await c.next("broadcast"), [{ tag: all }])));

      // One member of the room per shard; everyone else must get the except-message.
      const room = uniqueName("except");
      const excluded = [];
      for (let shard = 0; shard < SHARDS; shard++) excluded.push(clients.find((c) => c.shard === shard));
      for (const c of excluded) await c.ack("join", room);
      const included = clients.filter((c) => !excluded.includes(c));
      const ex = uniqueName("ex");
      assert.deepEqual(await sender.ack("except-room", room, { tag: ex }), []);
      await Promise.all(included.map(async (c) => assert.deepEqual(await c.next("except-message"), [{ tag: ex }])));
      await Promise.all(excluded.map((c) => c.fence()));
      for (const c of excluded) assert.deepEqual(c.all("except-message"), [], `member on shard ${c.shard}`);
    });

    it("to(socket id) reaches a socket on any shard from any shard", async (t) => {
      const tr = tracker(t);
      const clients = await spread(server.url, mode, SHARDS, tr);
      assertEveryShard(clients);
      for (const from of clients) {
        for (const to of clients) {
          const tag = uniqueName(`dm-${from.shard}-${to.shard}`);
          assert.deepEqual(await from.ack("to-socket", to.id, { tag }), []);
          assert.deepEqual(await to.next("direct"), [{ tag }]);
        }
      }
      await Promise.all(clients.map((c) => c.fence()));
      for (const c of clients) assert.equal(c.all("direct").length, SHARDS, `shard ${c.shard}: one per sender`);
    });

    it("sockets_join and sockets_leave act on the selected sockets of every shard", async (t) => {
      const tr = tracker(t);
      const { inside: selected, outside: others, room: selector } = await roomOverEveryShard(mode, tr, "selector");
      const target = uniqueName("target");

      // From a socket outside the selection, so no shard is the asker's own by accident.
      assert.deepEqual(await others[0].ack("sockets-join", selector, target), []);
      for (const c of selected) await assertRooms(c, [c.id, selector, target].sort());
      for (const c of others) await assertRooms(c, [c.id]);
      // The join is applied on every shard before a broadcast that follows it.
      const tag = uniqueName("joined");
      assert.deepEqual(await others[1].ack("sockets-join", selector, `${target}-2`), []);
      assert.deepEqual(await others[1].ack("to-room", `${target}-2`, { tag }), []);
      await Promise.all(selected.map(async (c) => assert.deepEqual(await c.next("room-message"), [{ tag }])));

      assert.deepEqual(await others[2].ack("sockets-leave", selector, target), []);
      for (const c of selected) await assertRooms(c, [c.id, selector, `${target}-2`].sort());
    });

    it("disconnect_sockets disconnects the selected sockets on every shard, and only them", async (t) => {
      const tr = tracker(t);
      const { inside: selected, outside: others, room: selector } = await roomOverEveryShard(mode, tr, "doomed");
      assert.deepEqual(await others[0].ack("disconnect-sockets", selector, false), []);
      await Promise.all(
        selected.map(async (c) => assert.equal((await c.next("disconnect"))[0], "io server disconnect")),
      );
      for (const c of others) assert.deepEqual(await c.ack("message-with-ack", c.shard), [c.shard]);
      for (const c of others) assert.deepEqual(c.all("disconnect"), []);
    });

    it("disconnect_sockets(close) closes the whole connections on every shard", async (t) => {
      const tr = tracker(t);
      const selected = await spread(server.url, mode, SHARDS, tr);
      const asker = (await spread(server.url, mode, 1, tr))[0];
      assertEveryShard(selected);
      const selector = uniqueName("closed");
      for (const c of selected) await c.ack("join", selector);
      const closed = selected.map(
        (c) => new Promise((resolve) => c.socket.io.engine.once("close", (reason) => resolve(reason))),
      );
      assert.deepEqual(await asker.ack("disconnect-sockets", selector, true), []);
      await Promise.all(
        selected.map(async (c) => assert.ok(CLOSE_REASONS.includes((await c.next("disconnect"))[0]))),
      );
      await withTimeout(Promise.all(closed), WAIT_MS, "every selected engine closing");
      assert.deepEqual(await asker.ack("message-with-ack", "alive"), ["alive"]);
    });
  });
}

describe("shards: routing by sid", () => {
  const base = () => `${server.url}/socket.io/?EIO=4&transport=polling`;

  async function handshake() {
    const res = await httpGet(base());
    assert.equal(res.status, 200);
    return JSON.parse(res.body.toString().slice(1)).sid;
  }

  function tagOf(shard) {
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[shard];
  }

  it("sids name their shard, and every handshake in turn goes to the next shard", async () => {
    const sids = [];
    for (let i = 0; i < 2 * SHARDS; i++) sids.push(await handshake());
    const tags = sids.map((sid) => sid[0]);
    assert.deepEqual(new Set(tags), new Set(Array.from({ length: SHARDS }, (_, i) => tagOf(i))), JSON.stringify(sids));
    for (const sid of sids) assert.ok(sid.length > 20, `the random part stays: ${sid}`);
  });

  it("a raw polling session keeps working through many requests, each a new connection", async () => {
    const sid = await handshake();
    const url = `${base()}&sid=${encodeURIComponent(sid)}`;
    const post = await httpRequest("POST", url, "40", { "Content-Type": "text/plain;charset=UTF-8" });
    assert.equal(post.status, 200, post.body.toString());
    let received = "";
    while (!received.includes('42["auth",{}]')) {
      const get = await httpGet(url);
      assert.equal(get.status, 200, get.body.toString());
      received += get.body.toString();
    }
    // 20 round trips: with three shards taking new connections in turn, a request sent to the
    // wrong one would get 400 "Session ID unknown".
    for (let i = 0; i < 20; i++) {
      const sent = await httpRequest("POST", url, `42${i}["shard"]`, { "Content-Type": "text/plain;charset=UTF-8" });
      assert.equal(sent.status, 200, `POST #${i}: ${sent.body}`);
      const got = await httpGet(url);
      assert.equal(got.status, 200, `GET #${i}: ${got.body}`);
      const packets = got.body.toString().split("\x1e").filter((p) => p !== "2");
      assert.deepEqual(packets, [`43${i}[${"ABC".indexOf(sid[0])}]`]);
    }
  });

  it("a sid naming no shard, or another shard, gets 400 Session ID unknown", async () => {
    const sid = await handshake();
    const otherShard = tagOf(("ABC".indexOf(sid[0]) + 1) % SHARDS) + sid.slice(1);
    for (const bad of [
      "Z" + sid.slice(1), // a valid tag beyond the shard count
      "~" + sid.slice(1), // no tag at all
      "." + sid.slice(1),
      otherShard, // the right random part on the wrong shard
      "",
      "A",
    ]) {
      for (const method of ["GET", "POST"]) {
        const url = `${base()}&sid=${encodeURIComponent(bad)}`;
        const res =
          method === "GET" ? await httpGet(url) : await httpRequest("POST", url, "40", { "Content-Type": "text/plain" });
        assert.equal(res.status, 400, `${method} sid=${JSON.stringify(bad)}`);
        assert.deepEqual(JSON.parse(res.body.toString()), { code: 1, message: "Session ID unknown" });
      }
    }
    // The session itself is untouched.
    const ok = await httpRequest("POST", `${base()}&sid=${encodeURIComponent(sid)}`, "40", {
      "Content-Type": "text/plain;charset=UTF-8",
    });
    assert.equal(ok.status, 200);
  });

  it("a WebSocket upgrade with a sid naming no shard is refused with 400 Session ID unknown", async () => {
    const sid = await handshake();
    for (const bad of ["Z" + sid.slice(1), "~" + sid.slice(1)]) {
      const ws = new WebSocket(
        `ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket&sid=${encodeURIComponent(bad)}`,
      );
      const res = await withTimeout(
        new Promise((resolve, reject) => {
          ws.on("unexpected-response", (req, response) => {
            const chunks = [];
            response.on("data", (c) => chunks.push(c));
            response.on("end", () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString() }));
          });
          ws.on("open", () => reject(new Error("the upgrade was accepted")));
          ws.on("error", () => {});
        }),
        WAIT_MS,
        "the refused upgrade",
      );
      ws.terminate();
      assert.equal(res.status, 400);
      assert.deepEqual(JSON.parse(res.body), { code: 1, message: "Session ID unknown" });
    }
  });

  it("requests outside Socket.IO, and garbage, are answered by some shard", async () => {
    const hello = await httpGet(`${server.url}/hello`);
    assert.equal(hello.status, 200);
    assert.equal(hello.body.toString(), "hello");
    // A sid on a path that is not Socket.IO's routes nowhere in particular.
    const other = await httpGet(`${server.url}/elsewhere?sid=Bxxxx`);
    assert.equal(other.status, 404);
  });
});

describe("shards: stop", () => {
  it("SIGTERM with clients of every transport on every shard: all disconnected, exit status 0", async (t) => {
    const own = await startSharded();
    let stopped = false;
    t.after(() => (stopped ? undefined : own.stop()));
    const tr = tracker(t);
    const clients = [];
    for (const mode of MODES) clients.push(...(await spread(own.url, mode, SHARDS, tr)));
    assertEveryShard(clients);
    for (const mode of MODES) assertEveryShard(clients.filter((c) => c.mode === mode));
    const disconnected = clients.map((c) => c.next("disconnect", 3 * WAIT_MS));
    stopped = true;
    await own.stop(); // asserts exit status 0 within its own limit
    const reasons = await Promise.all(disconnected);
    for (const [reason] of reasons) assert.ok(CLOSE_REASONS.includes(reason), `reason ${JSON.stringify(reason)}`);
  });
});

describe("workers: one killed", { skip: !WORKERS && "WorkerProcesses only (CHAT_TEST_WORKERS)" }, () => {
  it("is started again: its clients lose their session, the others keep theirs, new clients reach it", async (t) => {
    const own = await startSharded();
    t.after(() => own.stop());
    const tr = tracker(t);
    const clients = await spread(own.url, MODES[1], 2 * SHARDS, tr);
    assertEveryShard(clients);
    const [victim] = await clients[0].ack("pid");
    const lost = clients.filter((c) => c.shard === clients[0].shard);
    const kept = clients.filter((c) => c.shard !== clients[0].shard);
    const reasons = Promise.all(lost.map((c) => c.next("disconnect")));
    process.kill(victim, "SIGKILL");
    for (const [reason] of await reasons) assert.equal(reason, "transport close");
    for (const c of kept) assert.deepEqual(await c.ack("message-with-ack", c.shard), [c.shard]);
    // The supervisor starts a worker with the same index; new clients reach it once it is up.
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const fresh = await spread(own.url, MODES[1], SHARDS, tr);
      const replaced = fresh.find((c) => c.shard === clients[0].shard);
      if (replaced) {
        const [pid] = await replaced.ack("pid");
        assert.notEqual(pid, victim);
        break;
      }
      assert.ok(Date.now() < deadline, "no client reached the restarted worker");
      await sleep(100);
    }
    assert.match(own.stderr(), /worker \d+ \(pid \d+\) was killed by signal 9/);
  });
});

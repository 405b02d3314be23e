// Shared helpers for the Node integration tests of the chat server.
//
// The tests drive the `test_server` binary described in tests/support/TEST_SERVER.md. Its path
// comes from the CHAT_TEST_SERVER environment variable. The stock socket.io-client (and `ws`,
// which it depends on) are resolved from the repository's node_modules, whatever the cwd.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";
import http from "node:http";
import net from "node:net";
import assert from "node:assert/strict";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, "..", "..");
const require = createRequire(path.join(REPO_ROOT, "package.json"));

export const { io, Manager } = require("socket.io-client");
export const WebSocket = require("ws");
export const CLIENT_DIST =
  process.env.CHAT_CLIENT_DIR || path.join(REPO_ROOT, "node_modules", "socket.io-client", "dist");

/** Default time limit of every wait; only there so a broken server fails instead of hanging. */
export const WAIT_MS = 5000;

/** The three transport set-ups every behaviour runs over. */
export const MODES = [
  { name: "polling", opts: { transports: ["polling"] }, upgrade: false, initial: "polling" },
  { name: "websocket", opts: { transports: ["websocket"] }, upgrade: false, initial: "websocket" },
  { name: "polling+upgrade", opts: {}, upgrade: true, initial: "polling" },
];

export function serverBinary() {
  const bin = process.env.CHAT_TEST_SERVER;
  if (!bin) {
    throw new Error(
      "CHAT_TEST_SERVER is not set: point it at the test_server binary " +
        "(e.g. CHAT_TEST_SERVER=build/tests/test_server node --test tests/node/)",
    );
  }
  return bin;
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Rejects with `message` unless `promise` settles within `ms`. */
export function withTimeout(promise, ms, message) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${message}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/**
 * How many shards (io threads) every test server runs with: CHAT_TEST_SHARDS, else one (a plain
 * chat::Server). ctest runs each node suite both ways.
 */
export const SHARDS = Number(process.env.CHAT_TEST_SHARDS || 1);

/**
 * Starts the test server with the given extra arguments (and `--shards SHARDS` unless they say
 * otherwise). Resolves with { port, url, child, stop(), stderr() } once it printed `LISTENING <port>`
 * (and plainPort, when it printed `LISTENING PLAIN <port>` too: a TLS server's plain listener).
 */
export function startServer(args = [], { startTimeoutMs = 10000 } = {}) {
  const bin = serverBinary();
  const shards = args.includes("--shards") ? [] : ["--shards", String(SHARDS)];
  const child = spawn(bin, ["--port", "0", ...shards, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let stdout = "";
  const exited = new Promise((resolve) => {
    child.on("exit", (code, signal) => resolve({ code, signal }));
  });
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => {
    stderr += d;
    if (stderr.length > 64 * 1024) stderr = stderr.slice(-32 * 1024);
    if (process.env.CHAT_TEST_VERBOSE) process.stderr.write(d);
  });
  child.stdout.setEncoding("utf8");

  const listening = new Promise((resolve, reject) => {
    child.on("error", (err) => reject(new Error(`cannot start ${bin}: ${err.message}`)));
    child.stdout.on("data", (d) => {
      stdout += d;
      const m = /^LISTENING (\d+)\r?$/m.exec(stdout);
      if (m) resolve(Number(m[1]));
      if (stdout.length > 64 * 1024) stdout = stdout.slice(-32 * 1024);
    });
    exited.then(({ code, signal }) =>
      reject(
        new Error(
          `test_server exited before LISTENING (code ${code}, signal ${signal}); ` +
            `stdout: ${JSON.stringify(stdout)} stderr: ${JSON.stringify(stderr.slice(-2000))}`,
        ),
      ),
    );
  });

  return withTimeout(listening, startTimeoutMs, `test_server ${args.join(" ")} printing LISTENING`).then(
    (port) => {
      assert.ok(port > 0 && port < 65536, `bad port in LISTENING line: ${port}`);
      let stopped = null;
      const plain = /^LISTENING PLAIN (\d+)\r?$/m.exec(stdout);
      return {
        port,
        plainPort: plain ? Number(plain[1]) : undefined,
        url: `http://127.0.0.1:${port}`,
        child, // for tests that freeze or kill it
        stderr: () => stderr,
        async stop() {
          if (stopped) return stopped;
          stopped = (async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            let status;
            try {
              status = await withTimeout(exited, 5000, "test_server exiting after SIGTERM");
            } catch (err) {
              child.kill("SIGKILL");
              await exited;
              throw err;
            }
            assert.deepEqual(
              status,
              { code: 0, signal: null },
              `test_server must exit with status 0 on SIGTERM; stderr tail: ${stderr.slice(-2000)}`,
            );
          })();
          return stopped;
        },
      };
    },
    (err) => {
      child.kill("SIGKILL");
      throw err;
    },
  );
}

/**
 * What a client socket received, in order, so a test can await an event that may already have
 * arrived (e.g. `auth`, sent right after CONNECT). Subclasses feed it with `_push` and name
 * themselves in errors with `label()`.
 */
export class ReceivedLog {
  constructor(socket, mode) {
    this.socket = socket;
    this.mode = mode;
    this.log = []; // { event, args, used }
    this.waiters = [];
  }

  get id() {
    return this.socket.id;
  }

  /** How errors name this client. */
  label() {
    return `${this.mode?.name ?? "?"} ${this.socket.nsp}`;
  }

  _push(event, args) {
    const entry = { event, args, used: false };
    this.log.push(entry);
    const i = this.waiters.findIndex((w) => w.event === event);
    if (i >= 0) {
      const [w] = this.waiters.splice(i, 1);
      entry.used = true;
      clearTimeout(w.timer);
      w.resolve(args);
    }
  }

  /** Resolves with the args of the next not yet consumed `event`. */
  next(event, ms = WAIT_MS) {
    const entry = this.log.find((e) => e.event === event && !e.used);
    if (entry) {
      entry.used = true;
      return Promise.resolve(entry.args);
    }
    return new Promise((resolve, reject) => {
      const w = { event, resolve, timer: null };
      this.waiters.push(w);
      w.timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) {
          this.waiters.splice(i, 1);
          reject(new Error(`[${this.label()}] no "${event}" within ${ms} ms; received: ${this.describeLog()}`));
        }
      }, ms);
    });
  }

  /** Args of every `event` received so far (consumed or not). */
  all(event) {
    return this.log.filter((e) => e.event === event).map((e) => e.args);
  }

  describeLog() {
    const s = JSON.stringify(
      this.log.map((e) => [e.event, ...e.args.map((a) => (typeof a === "function" ? "<fn>" : a))]),
      (k, v) => (v && v.type === "Buffer" && Array.isArray(v.data) ? `<Buffer ${v.data.length}>` : v),
    );
    return s.length > 1500 ? s.slice(0, 1500) + "..." : s;
  }
}

/** A socket.io-client socket and what it received (ReceivedLog). */
export class Client extends ReceivedLog {
  constructor(socket, mode) {
    super(socket, mode);
    socket.onAny((event, ...args) => this._push(event, args));
    for (const event of ["connect", "disconnect", "connect_error"]) {
      socket.on(event, (...args) => this._push(event, args));
    }
    const engine = socket.io.engine;
    this.engine = engine;
    this.alreadyUpgraded = !engine || engine.transport?.name === "websocket";
    this.upgradeSeen = new Promise((resolve) => {
      engine?.once("upgrade", (transport) => resolve(transport.name));
    });
  }

  /** Awaits `connect` (rejecting on connect_error), then in upgrade mode the `upgrade` event. */
  async ready(ms = WAIT_MS) {
    const result = await withTimeout(
      new Promise((resolve) => {
        if (this.socket.connected) return resolve({ ok: true });
        this.socket.once("connect", () => resolve({ ok: true }));
        this.socket.once("connect_error", (err) => resolve({ ok: false, err }));
      }),
      ms,
      `[${this.mode?.name}] connecting to ${this.socket.nsp}; received: ${this.describeLog()}`,
    );
    if (!result.ok) {
      throw new Error(
        `[${this.mode?.name}] connect_error on ${this.socket.nsp}: ${result.err.message} ` +
          `${JSON.stringify(result.err.data)}`,
      );
    }
    if (this.mode?.upgrade) {
      if (!this.alreadyUpgraded) {
        const name = await withTimeout(this.upgradeSeen, ms, "the upgrade event");
        assert.equal(name, "websocket");
        this.alreadyUpgraded = true;
      }
      assert.equal(this.socket.io.engine.transport.name, "websocket");
    } else if (this.mode) {
      assert.equal(this.socket.io.engine.transport.name, this.mode.initial);
    }
    return this;
  }

  /** Awaits a connect_error and returns the Error. */
  async connectError(ms = WAIT_MS) {
    const [err] = await this.next("connect_error", ms);
    return err;
  }

  emit(event, ...args) {
    this.socket.emit(event, ...args);
  }

  /** Emits with an ack callback; resolves with the full array of ack arguments. */
  ack(event, ...args) {
    return new Promise((resolve, reject) => {
      this.socket.timeout(WAIT_MS).emit(event, ...args, (err, ...res) => {
        if (err) {
          reject(
            new Error(
              `[${this.mode?.name} ${this.socket.nsp}] no ack for "${event}" (${err.message}); ` +
                `received: ${this.describeLog()}`,
            ),
          );
        } else {
          resolve(res);
        }
      });
    });
  }

  /**
   * Round trip through the server on this client's connection: every packet the server queued
   * for this socket before handling the fence has been delivered when it resolves.
   */
  async fence() {
    const res = await this.ack("message-with-ack", "fence");
    assert.deepEqual(res, ["fence"]);
  }

  close() {
    try {
      this.socket.disconnect();
    } catch {}
    try {
      this.socket.io.engine?.close();
    } catch {}
  }
}

/** Opens a socket (own Manager) on `nsp`; does not wait for the connection. */
export function connect(url, mode, { nsp = "/", auth, ...extra } = {}) {
  const opts = { forceNew: true, reconnection: false, ...mode.opts, ...extra };
  if (auth !== undefined) opts.auth = auth;
  const socket = io(url + (nsp === "/" ? "" : nsp), opts);
  return new Client(socket, mode);
}

/** A Manager for multiplexing several namespaces over one Engine.IO connection. */
export function manager(url, mode, extra = {}) {
  return new Manager(url, { reconnection: false, ...mode.opts, ...extra });
}

export function socketOn(mgr, mode, nsp, auth) {
  return new Client(mgr.socket(nsp, auth === undefined ? {} : { auth }), mode);
}

/** Connects and waits for readiness. */
export async function connected(url, mode, options) {
  const c = connect(url, mode, options);
  return c.ready();
}

/**
 * Collects clients/managers and closes them after the test (register with t.after).
 */
export function tracker(t) {
  const clients = [];
  const managers = [];
  t.after(() => {
    for (const c of clients) c.close();
    for (const m of managers) {
      try {
        m.engine?.close();
      } catch {}
    }
  });
  return {
    add(c) {
      clients.push(c);
      return c;
    },
    mgr(m) {
      managers.push(m);
      return m;
    },
  };
}

/** `n` bytes of a fixed pseudo-random sequence from `seed`: binary that does not compress. */
export function pattern(n, seed) {
  const b = Buffer.alloc(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

let seq = 0;
/** A room name unique within this process. */
export function uniqueName(prefix = "room") {
  seq += 1;
  return `${prefix}-${process.pid}-${seq}`;
}

/** Polls the server's `disconnect-reasons` through `client` until `predicate(list)` holds. */
export async function reasonsWhen(client, predicate, ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    const res = await client.ack("disconnect-reasons");
    assert.equal(res.length, 1, "disconnect-reasons acks with one array");
    last = res[0];
    assert.ok(Array.isArray(last), `disconnect-reasons ack must be an array, got ${JSON.stringify(last)}`);
    if (predicate(last)) return last;
    if (Date.now() > deadline) {
      throw new Error(`disconnect-reasons never matched; last: ${JSON.stringify(last)}`);
    }
    await sleep(50);
  }
}

/** Plain HTTP GET without connection reuse; resolves { status, headers, body: Buffer }. */
export function httpGet(url, ms = WAIT_MS) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.get(url, { agent: false }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      req.on("error", reject);
    }),
    ms,
    `GET ${url}`,
  );
}

/** HTTP request with a body; resolves { status, headers, body: Buffer }. */
export function httpRequest(method, url, body, headers = {}, ms = WAIT_MS) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(body);
      const allHeaders = data === undefined ? headers : { "Content-Length": String(data.length), ...headers };
      const req = http.request(url, { method, agent: false, headers: allHeaders }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      req.on("error", reject);
      if (data !== undefined) req.write(data);
      req.end();
    }),
    ms,
    `${method} ${url}`,
  );
}

/** A port nothing listens on at the moment (for servers that cannot be told to take port 0). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

const REDIS_MISSING =
  "redis-server is not installed: the Redis tests need Debian's redis-server (run scripts/setup)";

/**
 * Debian's redis-server on 127.0.0.1 at a free port, without persistence. `kill()` ends it (by
 * default with SIGKILL, as a crash would) and `start()` starts it again on the same port.
 * Rejects with a message naming scripts/setup when redis-server is not installed.
 */
export class RedisServer {
  static async start() {
    const redis = new RedisServer(await freePort());
    await redis.start();
    return redis;
  }

  constructor(port) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.child = null;
  }

  async start() {
    // A port held a moment after a crash (or taken meanwhile) makes redis-server exit: retried.
    let lastError;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        return await this._startOnce();
      } catch (err) {
        if (err.message === REDIS_MISSING) throw err;
        lastError = err;
        await sleep(100);
      }
    }
    throw lastError;
  }

  _startOnce() {
    const args = ["--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"];
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.exited = new Promise((resolve) => child.on("exit", resolve));
    let seen = "";
    const ready = new Promise((resolve, reject) => {
      const look = (chunk) => {
        seen += chunk;
        if (seen.includes("Ready to accept connections")) resolve();
      };
      child.stdout.on("data", look);
      child.stderr.on("data", look);
      child.on("error", (err) => reject(err.code === "ENOENT" ? new Error(REDIS_MISSING) : err));
      child.on("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${seen.slice(-1000)}`)));
    });
    return withTimeout(ready, 10000, "redis-server starting").catch((err) => {
      child.kill("SIGKILL");
      throw err;
    });
  }

  /** Ends redis-server and waits until it is gone. */
  async kill(signal = "SIGKILL") {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await withTimeout(this.exited, 5000, "redis-server exiting");
  }
}

// What the test server's "burst" handler sends: [i, payload], the payloads cycling through a
// short text, a text past 1 KiB, a short binary and a binary past 1 KiB.
export const BURST = 64;
function burstPayload(i) {
  switch (i % 4) {
    case 0:
      return `s${i}`;
    case 1:
      return String.fromCharCode(97 + (i % 26)).repeat(2000);
    case 2:
      return Buffer.alloc(16, i);
    default:
      return Buffer.alloc(4096, i);
  }
}
export function assertBurst(received, count = BURST, allShort = false) {
  assert.equal(received.length, count);
  received.forEach(([i, payload], at) => {
    assert.equal(i, at);
    const expected = allShort ? `s${at}`.padEnd(200, ".") : burstPayload(at);
    if (Buffer.isBuffer(expected)) assert.ok(Buffer.from(payload).equals(expected), `burst message ${at}`);
    else assert.equal(payload, expected);
  });
}

// Shared helpers for the real-browser tests of the chat page (examples/chat_page).
//
// The same tests run against both chat servers of docs/protocol.md:
// - the C++ example, whose binary comes from the CHAT_SERVER_BIN environment variable;
// - the Python example, examples/python_chat/app.py, run by the interpreter in CHAT_PYTHON (the
//   repository's .venv/bin/python).
// A server whose variable is not set is skipped, with the reason shown. Each start gets a fresh
// SQLite file unless a test restarts a server on the file it already has.
//
// The browser is Debian's Chromium (/usr/bin/chromium, `scripts/setup` installs it), driven
// through playwright-core from the repository's node_modules. No browser is ever downloaded.
//
// Every wait is bounded, so a broken page or server fails the test instead of hanging it; the
// bounds are hang guards, not timing requirements.

import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import net from "node:net";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import path from "node:path";
import assert from "node:assert/strict";
import { before, after } from "node:test";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, "..", "..");
const require = createRequire(path.join(REPO_ROOT, "package.json"));
const { chromium } = require("playwright-core");

/** Time limit of every wait on a page or a server (a hang guard; it covers a reconnection's back-off). */
export const WAIT_MS = 15000;
/** Time limit for starting a process (a server, Chromium), which is slower on a loaded machine. */
export const START_MS = 30000;

export const CHROMIUM = process.env.CHAT_CHROMIUM || "/usr/bin/chromium";
export const DESKTOP = { width: 1180, height: 760 };
export const PHONE = { width: 390, height: 844 };

// What Chromium needs here: root (so no sandbox), no GPU, and nothing reaching for the network.
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * The two servers. `skip` is false or the reason the server cannot run here; `command(db, port,
 * args)` gives the program and arguments that start it on 127.0.0.1, `args` (options such as the
 * rate limits, which both servers take alike) last.
 */
export const SERVERS = [
  {
    label: "C++ chat_server",
    skip: process.env.CHAT_SERVER_BIN ? false : "CHAT_SERVER_BIN is not set (scripts/build chat_server; point it at build/examples/chat_server)",
    command: (db, port, args = []) => [
      process.env.CHAT_SERVER_BIN,
      ["--host", "127.0.0.1", "--port", String(port), "--db", db, ...args],
    ],
  },
  {
    label: "Python app.py",
    skip: process.env.CHAT_PYTHON ? false : "CHAT_PYTHON is not set (point it at the repository's .venv/bin/python)",
    command: (db, port, args = []) => [
      process.env.CHAT_PYTHON,
      [path.join(REPO_ROOT, "examples", "python_chat", "app.py"), "--host", "127.0.0.1", "--port", String(port), "--db", db,
        ...args],
    ],
  },
];

/** Rejects with `message` unless `promise` settles within `ms`. */
export function withTimeout(promise, ms, message) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${message}`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/** A fresh directory for one server's database; removed by the returned function. */
export async function freshDatabase() {
  const dir = await mkdtemp(path.join(tmpdir(), "chat-browser-"));
  return { db: path.join(dir, "chat.db"), remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * Starts `server` (an entry of SERVERS) on `db`, on `port` (0: any free port), with the extra
 * command-line `args`. Resolves with
 * { url, port, db, stop(), output() } once it printed the address it listens on
 * (`http://127.0.0.1:PORT`, on stdout or stderr). stop() sends SIGTERM and asserts exit status 0.
 */
export function startServer(server, { db, port = 0, args: extra = [] }) {
  const [program, args] = server.command(db, port, extra);
  const child = spawn(program, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  let listening = null;
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));

  const ready = new Promise((resolve, reject) => {
    const keep = (d) => {
      output += d;
      if (output.length > 64 * 1024) output = output.slice(-32 * 1024);
      if (process.env.CHAT_TEST_VERBOSE) process.stderr.write(d);
      // The first address with a real port; a line that echoes the requested port 0 is not one.
      for (const m of output.matchAll(/http:\/\/127\.0\.0\.1:(\d+)/g)) {
        if (Number(m[1]) > 0 && !listening) {
          listening = { url: `http://127.0.0.1:${m[1]}`, port: Number(m[1]) };
          resolve(listening);
        }
      }
    };
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", (err) => reject(new Error(`cannot start ${program}: ${err.message}`)));
    exited.then(({ code, signal }) =>
      reject(new Error(`${server.label} exited before listening (code ${code}, signal ${signal}); output: ${JSON.stringify(output)}`)),
    );
  });

  return withTimeout(ready, START_MS, `${server.label} printing http://127.0.0.1:PORT`).then(
    ({ url, port: bound }) => {
      assert.ok(bound > 0 && bound < 65536, `bad port in the listening line: ${bound}`);
      let stopped = null;
      return {
        url,
        port: bound,
        db,
        output: () => output,
        stop() {
          stopped ??= (async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            let status;
            try {
              status = await withTimeout(exited, WAIT_MS, `${server.label} exiting after SIGTERM`);
            } catch (err) {
              child.kill("SIGKILL");
              await exited;
              throw err;
            }
            assert.deepEqual(status, { code: 0, signal: null },
              `${server.label} must exit with status 0 on SIGTERM; output tail: ${output.slice(-2000)}`);
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
 * Starts Debian's redis-server on a free port of 127.0.0.1, keeping nothing on disk, for servers
 * run as several processes (--redis). Resolves with { url, stop() } once it accepts connections.
 */
export async function startRedis() {
  const port = await new Promise((resolve, reject) => {
    const probe = net.createServer().listen(0, "127.0.0.1", () => {
      const { port: free } = probe.address();
      probe.close(() => resolve(free));
    });
    probe.on("error", reject);
  });
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise((resolve) => child.on("exit", resolve));
  let seen = "";
  const ready = new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      if (seen.includes("Ready to accept connections")) resolve();
    });
    child.on("error", (err) => reject(new Error(`cannot start redis-server (scripts/setup installs it): ${err.message}`)));
    exited.then((code) => reject(new Error(`redis-server exited with ${code}: ${seen}`)));
  });
  await withTimeout(ready, START_MS, "redis-server accepting connections").catch((err) => {
    child.kill("SIGKILL");
    throw err;
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** Launches Debian's Chromium, headless, in a fresh profile. */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: START_MS });
}

/**
 * Opens the page at `url` in a new browser context (its own storage: another person) and, if
 * `name` is given, enters it in the name form. Resolves once the status badge says "online",
 * with { name, context, page, errors, websockets, sent }: uncaught page errors, the page's WebSockets
 * and the text of everything it sent to the server (WebSocket frames and polling POST bodies).
 */
export async function openChatPage(browser, url, { name, viewport = DESKTOP, contextOptions = {}, beforeLoad } = {}) {
  const context = await browser.newContext({ viewport, ...contextOptions });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  const page = await context.newPage();
  const errors = [];
  const websockets = [];
  const sent = [];
  page.on("pageerror", (err) => errors.push(String(err)));
  page.on("websocket", (ws) => {
    websockets.push(ws);
    ws.on("framesent", (frame) => sent.push(String(frame.payload)));
  });
  // A reconnection starts on long-polling, so what the page sends first may travel in a POST
  // before the upgrade: those bodies count as sent too.
  page.on("request", (request) => {
    if (request.method() === "POST" && new URL(request.url()).pathname === "/socket.io/") {
      sent.push(request.postData() ?? "");
    }
  });
  try {
    await beforeLoad?.(page);
    await page.goto(url + "/", { waitUntil: "load" });
    if (name !== undefined) {
      await page.fill("#name", name);
      await page.click("#name-form button[type=submit]");
      await waitForStatus(page, "online");
    }
  } catch (err) {
    await context.close();
    throw err;
  }
  return { name, context, page, errors, websockets, sent };
}

/** Waits until `fn(arg)` is truthy in the page; on a time-out the error says what `describe()` saw. */
export async function waitInPage(page, fn, arg, what, describe) {
  try {
    await page.waitForFunction(fn, arg, { timeout: WAIT_MS });
  } catch (err) {
    const now = describe ? await describe().catch((e) => `? (${e.message})`) : "";
    throw new Error(`${what} did not happen within ${WAIT_MS} ms${describe ? `; now: ${JSON.stringify(now)}` : ""}: ${err.message}`);
  }
}

export function statusOf(page) {
  return page.evaluate(() => document.getElementById("status").textContent);
}

export function waitForStatus(page, text) {
  return waitInPage(page, (want) => document.getElementById("status")?.textContent === want, text,
    `status ${JSON.stringify(text)}`, () => statusOf(page));
}

/** The shown messages, in order, as { author, text, id } (notices left out). */
export function shownMessages(page) {
  return page.$$eval("#messages li.message", (items) =>
    items.map((li) => ({
      author: li.querySelector(".author").textContent,
      text: li.querySelector(".text").textContent,
      id: Number(li.dataset.id),
    })),
  );
}

/** The shown messages as "author: text" lines, which make readable assertions. */
export async function messageLines(page) {
  return (await shownMessages(page)).map((m) => `${m.author}: ${m.text}`);
}

/** Waits until some shown message has exactly `text` as its text. */
export function waitForMessage(page, text) {
  return waitInPage(page,
    (want) => [...document.querySelectorAll("#messages li.message .text")].some((el) => el.textContent === want),
    text, `message ${JSON.stringify(text)} shown`, () => messageLines(page));
}

/** Waits until the shown messages are exactly `lines` ("author: text"). */
export function waitForLines(page, lines) {
  return waitInPage(page,
    (want) => JSON.stringify([...document.querySelectorAll("#messages li.message")].map((li) =>
      `${li.querySelector(".author").textContent}: ${li.querySelector(".text").textContent}`)) === JSON.stringify(want),
    lines, `messages ${JSON.stringify(lines)}`, () => messageLines(page));
}

/** Waits until the element matched by `selector` has exactly `text` as its text. */
export function waitForText(page, selector, text) {
  return waitInPage(page, ([sel, want]) => document.querySelector(sel)?.textContent === want, [selector, text],
    `${selector} reading ${JSON.stringify(text)}`, () => page.evaluate((sel) => document.querySelector(sel)?.textContent, selector));
}

/** The names in the page's "here now" list. */
export function onlineNames(page) {
  return page.$$eval("#online li", (items) => items.map((li) => li.textContent));
}

/** Types `text` into the composer and presses Send, like a person would. */
export async function sendMessage(page, text) {
  await page.fill("#text", text);
  await page.click("#composer button[type=submit]");
}

/** Sends `text` and waits until the page shows it (the server's ack or broadcast came back). */
export async function say(page, text) {
  await sendMessage(page, text);
  await waitForMessage(page, text);
}

/** Clicks a room or conversation in the room list and waits until it is the one shown. */
export async function openRoomInList(page, roomId) {
  await page.click(`#rooms li[data-room="${roomId}"] button`);
  await waitInPage(page, (id) => document.querySelector("#rooms li.active")?.dataset.room === id, roomId,
    `room ${roomId} shown`, () => page.evaluate(() => document.querySelector("#rooms li.active")?.dataset.room));
}

/** Joins (or creates) a public room through the room form. */
export async function joinRoom(page, name) {
  await page.fill("#room-name", name);
  await page.click("#room-form button[type=submit]");
  await waitInPage(page, (id) => document.querySelector("#rooms li.active")?.dataset.room === id, name.toLowerCase(),
    `room ${name} shown`, () => page.evaluate(() => document.querySelector("#rooms li.active")?.dataset.room));
}

/**
 * Resolves once every packet the server had queued for this page's connection before now has
 * been handled by the page. It asks, over the page's own (multiplexed) connection, for a
 * namespace the server does not have; the server's answer (CONNECT_ERROR) travels behind
 * anything sent earlier, so after it a stray message would already be in the page. No sleep.
 */
export async function flush(page) {
  const answer = await page.evaluate(
    (ms) =>
      new Promise((resolve, reject) => {
        const probe = io("/__flush__");
        const done = (what) => {
          clearTimeout(timer);
          probe.close();
          resolve(what);
        };
        const timer = setTimeout(() => {
          probe.close();
          reject(new Error(`no answer to a namespace probe within ${ms} ms`));
        }, ms);
        probe.on("connect_error", (e) => done("connect_error: " + e.message));
        probe.on("connect", () => done("connect"));
      }),
    WAIT_MS,
  );
  assert.ok(answer, "namespace probe answered");
  return answer;
}

/** Sends a protocol event from the page's own connection and resolves with its ack. */
export function emitFromPage(page, event, data) {
  return page.evaluate(([e, d, ms]) => socket.timeout(ms).emitWithAck(e, d), [event, data, WAIT_MS]);
}

/** The page's localStorage, to carry a person's identity to a page on another origin. */
export function storageOf(page) {
  return page.evaluate(() => Object.fromEntries(Object.entries(localStorage)));
}

export function assertNoPageErrors(people) {
  for (const p of people) assert.deepEqual(p.errors, [], `uncaught errors in ${p.name}'s page`);
}

/**
 * The fixtures of a `describe` block for one server: one Chromium for the block, and per test
 * servers on fresh databases and people in their own browser contexts, all closed when the test
 * ends. Call it inside the `describe` callback.
 */
export function chatFixtures(server) {
  let browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(() => browser?.close());

  return {
    /**
     * Starts the server (on a fresh database unless `db` is given, with the extra command-line
     * `args`); stopped when the test ends.
     */
    async server(t, { db, port, args } = {}) {
      let remove = null;
      if (!db) ({ db, remove } = await freshDatabase());
      let running;
      try {
        running = await startServer(server, { db, port, args });
      } catch (err) {
        await remove?.();
        throw err;
      }
      t.after(async () => {
        try {
          await running.stop();
        } finally {
          await remove?.();
        }
      });
      return running;
    },

    /** Opens the page as a new person (entering `name` unless it is undefined); closed when the test ends. */
    async person(t, url, name, options = {}) {
      const person = await openChatPage(browser, url, { name, ...options });
      t.after(() => person.context.close());
      return person;
    },
  };
}

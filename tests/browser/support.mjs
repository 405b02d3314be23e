// Shared helpers for the real-browser tests of the chat page (examples/chat_server).
//
// The tests drive the `chat_server` example binary, whose path comes from the CHAT_SERVER_BIN
// environment variable, and Debian's Chromium (/usr/bin/chromium, `scripts/setup` installs it)
// through playwright-core from the repository's node_modules. No browser is ever downloaded.
//
// Every wait is bounded, so a broken page or server fails the test instead of hanging it.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";
import assert from "node:assert/strict";

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, "..", "..");
const require = createRequire(path.join(REPO_ROOT, "package.json"));
const { chromium } = require("playwright-core");

/** Time limit of every wait on the page or the server (only there to turn a hang into a failure). */
export const WAIT_MS = 5000;
/** Time limit for starting a process (the server, Chromium), which is slower on a loaded machine. */
export const START_MS = 20000;

export const CHROMIUM = process.env.CHAT_CHROMIUM || "/usr/bin/chromium";

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

export function serverBinary() {
  const bin = process.env.CHAT_SERVER_BIN;
  if (!bin) {
    throw new Error(
      "CHAT_SERVER_BIN is not set: point it at the chat_server example binary " +
        "(e.g. scripts/build chat_server && CHAT_SERVER_BIN=$PWD/build/examples/chat_server node --test tests/browser/)",
    );
  }
  return bin;
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
 * Starts chat_server on 127.0.0.1, port 0 (any free port). Resolves with { port, url, stop(), output() }
 * once it printed `chat server on http://HOST:PORT`. stop() sends SIGTERM and asserts exit status 0.
 */
export function startChatServer(args = []) {
  const bin = serverBinary();
  const child = spawn(bin, ["--host", "127.0.0.1", "--port", "0", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const keep = (d) => {
    output += d;
    if (output.length > 64 * 1024) output = output.slice(-32 * 1024);
    if (process.env.CHAT_TEST_VERBOSE) process.stderr.write(d);
  };
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", keep);
  const exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));

  const listening = new Promise((resolve, reject) => {
    child.on("error", (err) => reject(new Error(`cannot start ${bin}: ${err.message}`)));
    child.stdout.on("data", (d) => {
      keep(d);
      const m = /^chat server on (http:\/\/127\.0\.0\.1:(\d+))\r?$/m.exec(output);
      if (m) resolve({ url: m[1], port: Number(m[2]) });
    });
    exited.then(({ code, signal }) =>
      reject(new Error(`chat_server exited before listening (code ${code}, signal ${signal}); output: ${JSON.stringify(output)}`)),
    );
  });

  return withTimeout(listening, START_MS, `${bin} printing "chat server on http://127.0.0.1:PORT"`).then(
    ({ url, port }) => {
      assert.ok(port > 0 && port < 65536, `bad port in the listening line: ${port}`);
      let stopped = null;
      return {
        url,
        port,
        output: () => output,
        stop() {
          stopped ??= (async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            let status;
            try {
              status = await withTimeout(exited, WAIT_MS, "chat_server exiting after SIGTERM");
            } catch (err) {
              child.kill("SIGKILL");
              await exited;
              throw err;
            }
            assert.deepEqual(status, { code: 0, signal: null },
              `chat_server must exit with status 0 on SIGTERM; output tail: ${output.slice(-2000)}`);
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

/** Launches Debian's Chromium, headless, in a fresh profile. */
export async function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: START_MS });
}

/**
 * Opens the chat page in a new browser context (its own cookies and storage: another person)
 * and waits until its status badge says "online". Resolves with { context, page, errors, responses,
 * websockets }: uncaught page errors, every HTTP response, and every WebSocket the page opened.
 */
export async function openChatPage(browser, url, { viewport = { width: 960, height: 600 } } = {}) {
  const context = await browser.newContext({ viewport });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  const page = await context.newPage();
  const errors = [];
  const responses = [];
  const websockets = [];
  page.on("pageerror", (err) => errors.push(String(err)));
  page.on("response", (r) => responses.push(r));
  page.on("websocket", (ws) => websockets.push(ws));
  try {
    await page.goto(url + "/", { waitUntil: "load" });
    await waitForStatus(page, "online");
  } catch (err) {
    await context.close();
    throw err;
  }
  return { context, page, errors, responses, websockets };
}

/** The text of every message in the page's #messages list, in order. */
export function messageTexts(page) {
  return page.$$eval("#messages li", (items) => items.map((li) => li.textContent));
}

export async function waitForStatus(page, text) {
  try {
    await page.waitForFunction((want) => document.getElementById("status")?.textContent === want, text, {
      timeout: WAIT_MS,
    });
  } catch (err) {
    const now = await page.evaluate(() => document.getElementById("status")?.textContent).catch(() => "?");
    throw new Error(`status never became ${JSON.stringify(text)} within ${WAIT_MS} ms (it is ${JSON.stringify(now)}): ${err.message}`);
  }
}

/** Waits until some message in #messages has exactly `text` as its text. */
export async function waitForMessage(page, text) {
  try {
    await page.waitForFunction(
      (want) => [...document.querySelectorAll("#messages li")].some((li) => li.textContent === want),
      text,
      { timeout: WAIT_MS },
    );
  } catch (err) {
    const now = await messageTexts(page).catch(() => "?");
    throw new Error(`message ${JSON.stringify(text)} not shown within ${WAIT_MS} ms; the list holds ${JSON.stringify(now)}: ${err.message}`);
  }
}

/** Types `text` into the composer and presses Send, like a person would. */
export async function sendMessage(page, text) {
  await page.fill("#text", text);
  await page.click("#composer button[type=submit]");
}

/**
 * Resolves once every packet the server had queued for this page's connection before now has
 * been handled by the page. It asks, over the page's own (multiplexed) connection, for a
 * namespace the server does not have; the server's answer (CONNECT_ERROR) travels behind
 * anything sent earlier, so after it a duplicated message would already be in the list. No sleep.
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

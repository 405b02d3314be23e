// What the socket.io-client scenario scripts (node_client.mjs, flask_client.mjs) share: the
// client from the repository's node_modules, bounded waits, and the way a scenario reports.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.resolve(here, "..", "..", "..", "package.json"));
export const { io } = require("socket.io-client");

export const WAIT_MS = 10000;

/// socket.io-client's options for a transport argument: polling, websocket, or default.
export function transportOptions(transport) {
  return transport === "polling" ? { transports: ["polling"] }
    : transport === "websocket" ? { transports: ["websocket"] }
    : {};
}

/// `promise`, or a rejection naming `what` after WAIT_MS.
export function timeout(promise, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${WAIT_MS} ms: ${what}`)), WAIT_MS);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/// Resolves with the arguments of the next `event` on `socket`.
export function next(socket, event) {
  return timeout(new Promise((resolve) => socket.once(event, (...args) => resolve(args))), `event ${event}`);
}

export function connected(socket) {
  return timeout(new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (err) => reject(new Error("connect_error: " + err.message)));
  }), "connect");
}

/// Emits and resolves with the server's acknowledgement (its arguments).
export function ack(socket, event, ...args) {
  return timeout(new Promise((resolve) => socket.emit(event, ...args, (...reply) => resolve(reply))),
    `ack of ${event}`);
}

/// Bytes as {"$bytes": "<hex>"}, for JSON.
function encode(value) {
  if (Buffer.isBuffer(value)) return { $bytes: value.toString("hex") };
  if (value instanceof ArrayBuffer) return { $bytes: Buffer.from(value).toString("hex") };
  if (ArrayBuffer.isView(value)) {
    return { $bytes: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex") };
  }
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  }
  return value;
}

/// Runs scenarios[name]: prints one line of JSON (its observations, bytes encoded) and exits 0,
/// or prints {"error": "..."} and exits 1.
export async function runScenario(scenarios, name) {
  try {
    if (!scenarios[name]) throw new Error("unknown scenario " + name);
    const result = await scenarios[name]();
    process.stdout.write(JSON.stringify(encode(result)) + "\n");
    process.exit(0);
  } catch (err) {
    process.stdout.write(JSON.stringify({ error: String(err && err.stack || err) }) + "\n");
    process.exit(1);
  }
}

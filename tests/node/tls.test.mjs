// The TLS transport (chat::Server<chat::transport::TlsConfig> with an asio::ssl::context):
// socket.io-client over https long-polling, wss, and polling upgraded to wss, trusting a CA made
// for the test; a plaintext request to the TLS port gets no session; a client that does not
// trust the certificate refuses it, and the server goes on.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import http from "node:http";

import { io, MODES, WAIT_MS, startServer, withTimeout } from "./support.mjs";

let dir;
let ca;
let server;
let url;

/// A CA, and a certificate for 127.0.0.1 it signed.
function makeCertificates(into) {
  const run = (...args) => execFileSync("openssl", args, { cwd: into, stdio: ["ignore", "ignore", "pipe"] });
  run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=chat test CA",
      "-keyout", "ca.key", "-out", "ca.pem");
  run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key", "-out", "server.csr");
  execFileSync("sh", ["-c", "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf"], { cwd: into });
  run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
      "-extfile", "ext.cnf", "-out", "server.pem");
  return readFileSync(path.join(into, "ca.pem"));
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "chat-tls-"));
  ca = makeCertificates(dir);
  server = await startServer(["--tls-cert", path.join(dir, "server.pem"), "--tls-key", path.join(dir, "server.key")]);
  url = `https://127.0.0.1:${server.port}`;
});

after(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function once(socket, event) {
  return withTimeout(new Promise((resolve) => socket.once(event, (...args) => resolve(args))), WAIT_MS, event);
}

for (const mode of MODES) {
  test(`TLS: events and acks over ${mode.name}`, async () => {
    const socket = io(url, { ...mode.opts, ca, forceNew: true, reconnection: false, auth: { over: "tls" } });
    // Listened for at once: the upgrade may come before anything below is awaited.
    const upgraded = new Promise((resolve) => socket.io.engine.once("upgrade", resolve));
    try {
      const [auth] = await once(socket, "auth");
      assert.deepEqual(auth, { over: "tls" });
      if (mode.upgrade) await withTimeout(upgraded, WAIT_MS, "upgrade");
      const echoed = once(socket, "message-back");
      socket.emit("message", "secret", { n: 1 });
      assert.deepEqual(await echoed, ["secret", { n: 1 }]);
      const reply = await withTimeout(socket.emitWithAck("message-with-ack", 42), WAIT_MS, "ack");
      assert.equal(reply, 42);  // emitWithAck resolves with the first argument
      assert.equal(socket.io.engine.transport.name, mode.upgrade ? "websocket" : mode.initial);
    } finally {
      socket.close();
    }
  });
}

test("TLS: a plaintext request to the TLS port opens no session", async () => {
  const answer = await withTimeout(new Promise((resolve) => {
    const request = http.get(`http://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=polling`, (response) => {
      let body = "";
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode, body }));
    });
    request.on("error", (error) => resolve({ error: error.code || error.message }));
  }), WAIT_MS, "plaintext request");
  assert.ok(!("body" in answer) || !answer.body.startsWith("0{"), `a session was opened: ${JSON.stringify(answer)}`);
});

test("TLS: a client that does not trust the certificate refuses it, and the server goes on", async () => {
  const untrusting = io(url, { transports: ["websocket"], forceNew: true, reconnection: false });
  const [error] = await once(untrusting, "connect_error");
  assert.ok(error, "connect_error expected");
  untrusting.close();
  const socket = io(url, { transports: ["websocket"], ca, forceNew: true, reconnection: false });
  try {
    await once(socket, "auth");
  } finally {
    socket.close();
  }
});

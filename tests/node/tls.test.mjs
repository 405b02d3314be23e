// The TLS transport (chat::Server<chat::transport::TlsConfig> with an asio::ssl::context):
// socket.io-client over https long-polling, wss, and polling upgraded to wss, trusting a CA made
// for the test; a plaintext request to the TLS port gets no session; a client that does not
// trust the certificate (unknown CA, expired, made for another host) refuses it, and the server
// goes on; a server requiring client certificates; one server on a TLS and a plain port at once.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import http from "node:http";
import https from "node:https";

import { io, MODES, WAIT_MS, startServer, withTimeout } from "./support.mjs";

let dir;
let ca;
let server;
let url;

/// Runs the openssl CLI in the test's directory.
function openssl(...args) {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

/// A key and a certificate `name`.pem/.key the test CA signed, with these X.509 extensions,
/// valid for `days` (negative: expired).
function sign(name, extensions, days = 2) {
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}`, "-keyout", `${name}.key`, "-out", `${name}.csr`);
  writeFileSync(path.join(dir, `${name}.cnf`), extensions.join("\n") + "\n");
  openssl("x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
          "-days", String(days), "-extfile", `${name}.cnf`, "-out", `${name}.pem`);
  return { cert: path.join(dir, `${name}.pem`), key: path.join(dir, `${name}.key`) };
}

const file = (name) => readFileSync(path.join(dir, name));
const tlsArgs = ({ cert, key }) => ["--tls-cert", cert, "--tls-key", key];

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "chat-tls-"));
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=chat test CA",
          "-keyout", "ca.key", "-out", "ca.pem");
  ca = file("ca.pem");
  server = await startServer(tlsArgs(sign("server", ["subjectAltName=IP:127.0.0.1"])));
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

/// Connects over `transports`, waits for the server's `auth` greeting, and closes.
async function connectsTo(address, options) {
  const socket = io(address, { forceNew: true, reconnection: false, ...options });
  try {
    await once(socket, "auth");
  } finally {
    socket.close();
  }
}

/// The connect_error of a client the TLS handshake (or what follows) fails for.
async function refused(address, options) {
  const socket = io(address, { forceNew: true, reconnection: false, ...options });
  try {
    const [error] = await once(socket, "connect_error");
    return error;
  } finally {
    socket.close();
  }
}

test("TLS: a plaintext request to the TLS port opens no session, and the server goes on", async () => {
  const answer = await withTimeout(new Promise((resolve) => {
    const request = http.get(`http://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=polling`, (response) => {
      let body = "";
      response.on("data", (chunk) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode, body }));
    });
    request.on("error", (error) => resolve({ error: error.code || error.message }));
  }), WAIT_MS, "plaintext request");
  assert.ok(!("body" in answer) || !answer.body.startsWith("0{"), `a session was opened: ${JSON.stringify(answer)}`);
  for (const mode of MODES) await connectsTo(url, { ...mode.opts, ca });
});

test("TLS: a client that does not trust the certificate refuses it, and the server goes on", async () => {
  for (const transports of [["websocket"], ["polling"]]) {
    assert.ok(await refused(url, { transports }), "connect_error expected");
    await connectsTo(url, { transports, ca });
  }
});

/// What `openssl s_client` says of a handshake with the server at this TLS version, ciphers of
/// every security level allowed (OpenSSL's own default refuses TLS 1.1 before the server could).
function handshakeAt(version) {
  const run = spawnSync("openssl", ["s_client", "-connect", `127.0.0.1:${server.port}`, `-${version}`,
                                    "-cipher", "DEFAULT:@SECLEVEL=0", "-CAfile", path.join(dir, "ca.pem")],
                        { input: "", encoding: "utf8", timeout: WAIT_MS });
  return run.stdout + run.stderr;
}

test("TLS: 1.2 and 1.3 only: a TLS 1.1 handshake is refused", () => {
  assert.match(handshakeAt("tls1_1"), /alert protocol version/);
  assert.match(handshakeAt("tls1_2"), /^New, TLSv1\.2,/m);
  assert.match(handshakeAt("tls1_3"), /^New, TLSv1\.3,/m);
});

for (const bad of [
  { name: "expired", title: "an expired certificate", extensions: ["subjectAltName=IP:127.0.0.1"], days: -1, error: "CERT_HAS_EXPIRED" },
  { name: "wrong-host", title: "a certificate for another host", extensions: ["subjectAltName=DNS:chat.invalid"], days: 2, error: "ERR_TLS_CERT_ALTNAME_INVALID" },
]) {
  test(`TLS: a client refuses ${bad.title}, and the server goes on`, async () => {
    const other = await startServer(tlsArgs(sign(bad.name, bad.extensions, bad.days)));
    const address = `https://127.0.0.1:${other.port}`;
    try {
      // Why (socket.io-client's polling error does not say): Node's own https client, trusting the CA.
      const reason = await withTimeout(new Promise((resolve) => {
        https.get(`${address}/socket.io/?EIO=4&transport=polling`, { ca }, () => resolve("answered"))
          .on("error", (error) => resolve(error.code));
      }), WAIT_MS, "https request");
      assert.equal(reason, bad.error);
      for (const transports of [["websocket"], ["polling"]]) {
        assert.ok(await refused(address, { transports, ca }), "connect_error expected");
        // The server is not at fault: a client that skips the check (only to prove that the
        // server still serves) is answered.
        await connectsTo(address, { transports, ca, rejectUnauthorized: false });
      }
    } finally {
      await other.stop();
    }
  });
}

test("TLS: a server requiring client certificates refuses a client without one and accepts one with", async () => {
  const clientCert = sign("client", ["extendedKeyUsage=clientAuth"]);
  const other = await startServer([...tlsArgs(sign("server-mtls", ["subjectAltName=IP:127.0.0.1"])),
                                   "--tls-client-ca", path.join(dir, "ca.pem")]);
  const address = `https://127.0.0.1:${other.port}`;
  try {
    for (const mode of MODES) {
      assert.ok(await refused(address, { ...mode.opts, ca }), `${mode.name}: connect_error expected without a certificate`);
      await connectsTo(address, { ...mode.opts, ca, cert: readFileSync(clientCert.cert), key: readFileSync(clientCert.key) });
    }
  } finally {
    await other.stop();
  }
});

test("TLS: one server on a TLS and a plain port: broadcasts and rooms reach the clients of both", async () => {
  const both = await startServer([...tlsArgs({ cert: path.join(dir, "server.pem"), key: path.join(dir, "server.key") }),
                                  "--plain-port", "0"]);
  assert.ok(both.plainPort > 0, "LISTENING PLAIN expected");
  const sockets = [];
  try {
    for (const mode of MODES) {
      const secure = io(`https://127.0.0.1:${both.port}`, { ...mode.opts, ca, forceNew: true, reconnection: false });
      const plain = io(`http://127.0.0.1:${both.plainPort}`, { ...mode.opts, forceNew: true, reconnection: false });
      sockets.push(secure, plain);
      await Promise.all([once(secure, "auth"), once(plain, "auth")]);

      let heard = once(plain, "broadcast");
      assert.equal(await withTimeout(secure.emitWithAck("broadcast", { from: "tls" }), WAIT_MS, "broadcast ack"), undefined);
      assert.deepEqual(await heard, [{ from: "tls" }]);
      heard = once(secure, "broadcast");
      await withTimeout(plain.emitWithAck("broadcast", { from: "plain" }), WAIT_MS, "broadcast ack");
      assert.deepEqual(await heard, [{ from: "plain" }]);

      const room = `both-${mode.name}`;
      await withTimeout(secure.emitWithAck("join", room), WAIT_MS, "join");
      await withTimeout(plain.emitWithAck("join", room), WAIT_MS, "join");
      const inRoom = [once(secure, "room-message"), once(plain, "room-message")];
      await withTimeout(plain.emitWithAck("to-room", room, "hello"), WAIT_MS, "to-room");
      assert.deepEqual(await Promise.all(inRoom), [["hello"], ["hello"]]);
    }
  } finally {
    for (const socket of sockets) socket.close();
    await both.stop();
  }
});

test("TLS: the headers hooks and static settings reach the plain port of a TLS server too", async () => {
  const both = await startServer([...tlsArgs({ cert: path.join(dir, "server.pem"), key: path.join(dir, "server.key") }),
                                  "--plain-port", "0", "--header", "X-Every=1", "--initial-header", "X-First=2"]);
  const headersOf = (module, url, options = {}) =>
    withTimeout(
      new Promise((resolve, reject) => {
        module
          .get(url, options, (res) => {
            res.resume();
            res.on("end", () => resolve(res.headers));
          })
          .on("error", reject);
      }),
      WAIT_MS,
      `GET ${url}`,
    );
  try {
    const handshake = "/socket.io/?EIO=4&transport=polling";
    for (const [module, url, options] of [
      [https, `https://127.0.0.1:${both.port}${handshake}`, { ca }],
      [http, `http://127.0.0.1:${both.plainPort}${handshake}`, {}],
    ]) {
      const headers = await headersOf(module, url, options);
      assert.equal(headers["x-every"], "1", url);
      assert.equal(headers["x-first"], "2", url);
    }
  } finally {
    await both.stop();
  }
});

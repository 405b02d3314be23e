// Plain HTTP: the Socket.IO browser bundle served by default (no --client-dir: the directory
// CMake names in CHAT_CLIENT_BUNDLE_DIR, this tree's node_modules), and the /hello fallback.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { CLIENT_DIST, startServer, httpGet } from "./support.mjs";

let server;
before(async () => {
  server = await startServer([]);
});
after(async () => {
  await server?.stop();
});

describe("http", () => {
  for (const file of ["socket.io.js", "socket.io.min.js"]) {
    it(`GET /socket.io/${file} returns the exact bundle as JavaScript`, async () => {
      const expected = fs.readFileSync(path.join(CLIENT_DIST, file));
      const res = await httpGet(`${server.url}/socket.io/${file}`);
      assert.equal(res.status, 200);
      assert.match(res.headers["content-type"] ?? "", /^(application|text)\/javascript\b/);
      assert.equal(res.body.length, expected.length);
      assert.ok(res.body.equals(expected), "body differs from the file");
    });
  }

  it("GET /socket.io/socket.io.js.map returns the source map", async () => {
    const expected = fs.readFileSync(path.join(CLIENT_DIST, "socket.io.js.map"));
    const res = await httpGet(`${server.url}/socket.io/socket.io.js.map`);
    assert.equal(res.status, 200);
    assert.ok(res.body.equals(expected), "body differs from the file");
  });

  it("GET /hello returns hello", async () => {
    const res = await httpGet(`${server.url}/hello`);
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), "hello");
    assert.match(res.headers["content-type"] ?? "", /^text\/plain\b/);
  });

  it("GET of an unknown path outside /socket.io/ returns 404", async () => {
    const res = await httpGet(`${server.url}/no-such-file.txt`);
    assert.equal(res.status, 404);
  });

  it("the bundle and /hello work several times in a row", async () => {
    const expected = fs.readFileSync(path.join(CLIENT_DIST, "socket.io.min.js"));
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        httpGet(i % 2 ? `${server.url}/hello` : `${server.url}/socket.io/socket.io.min.js`),
      ),
    );
    results.forEach((res, i) => {
      assert.equal(res.status, 200);
      if (i % 2) assert.equal(res.body.toString(), "hello");
      else assert.ok(res.body.equals(expected));
    });
  });
});

describe("http without a client bundle", () => {
  it("--client-dir \"\" serves no bundle: /socket.io/socket.io.js is 404", async () => {
    const bare = await startServer(["--client-dir", ""]);
    try {
      const res = await httpGet(`${bare.url}/socket.io/socket.io.js`);
      assert.equal(res.status, 404);
    } finally {
      await bare.stop();
    }
  });
});

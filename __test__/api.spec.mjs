// API: polykv's HTTP client (`kv("http://…")`) against polykv/server on a
// loopback port, the protocol on the wire, polystore's own API client against our
// server, and the server under load and abuse: 1 000 concurrent requests mixed
// with oversized and malformed bodies, with no crash and no lost write.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { once } from "node:events";
import http from "node:http";
import https from "node:https";
import net from "node:net";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import Database from "better-sqlite3";
import polystore from "polystore";
import kv from "../index.mjs";
import { createHandler, createServer, listen } from "polykv/server";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A served memory store that counts the requests it gets.
async function serve(options = {}, backing = kv()) {
  const served = await listen(backing, options);
  served.backing = backing;
  served.requests = 0;
  served.server.prependListener("request", () => served.requests++);
  return served;
}

// 1 000 requests at once against `served`: 900 writes through polykv's client,
// 50 oversized bodies (413, or the connection closed under them) and 50 bodies
// that are not JSON (400). Then every accepted write reads back, and nothing else
// was written.
async function concurrentLoad(served) {
  const store = kv(served.url).prefix("load:");
  const tooBig = "9".repeat(1024 * 1024 + 10);
  const jobs = [];
  for (let i = 0; i < 1000; i++) {
    if (i % 20 === 7) {
      jobs.push(
        fetch(`${served.url}load%3Abig${i}`, { method: "PUT", body: tooBig }).then(
          (r) => r.status,
          (e) => e.cause?.code ?? "closed",
        ),
      );
    } else if (i % 20 === 13) {
      jobs.push(fetch(`${served.url}load%3Abad${i}`, { method: "PUT", body: `{"i":${i}` }).then((r) => r.status));
    } else {
      jobs.push(store.set(`k${i}`, { i, text: `value ${i}` }).then(() => "written"));
    }
  }
  const outcomes = await Promise.all(jobs);
  const tally = {};
  for (const outcome of outcomes) tally[outcome] = (tally[outcome] ?? 0) + 1;
  assert.equal(tally.written, 900);
  assert.equal(tally[400], 50);
  assert.equal(
    (tally[413] ?? 0) + (tally.ECONNRESET ?? 0) + (tally.closed ?? 0) + (tally.EPIPE ?? 0),
    50,
    JSON.stringify(tally),
  );

  const reads = await Promise.all(Array.from({ length: 1000 }, (_, i) => store.get(`k${i}`)));
  for (let i = 0; i < 1000; i++) {
    const expected = i % 20 === 7 || i % 20 === 13 ? null : { i, text: `value ${i}` };
    assert.deepEqual(reads[i], expected, `k${i}`);
  }
  const keys = await store.keys();
  assert.equal(keys.length, 900);
  assert.ok(keys.every((key) => key.startsWith("k")));
}

describe("API client and server", () => {
  let served;
  before(async () => {
    served = await serve();
  });
  after(() => served.close());

  it("kv(url) is API and sends no request by itself", async () => {
    const before = served.requests;
    const store = kv(served.url);
    assert.equal(store.type, "API");
    kv(served.url, { prefix: "p:" }).prefix("q:");
    await sleep(20);
    assert.equal(served.requests, before);
  });

  it("round-trips values, keys with any character, and deletes", async () => {
    const store = kv(served.url).prefix("rt:");
    const keys = [
      "plain",
      "with/slash",
      "q?x=1&y",
      "hash#tag",
      "per%25cent",
      "space here",
      "plus+sign",
      "ünï😀",
      "a:b:c",
    ];
    for (const [i, key] of keys.entries()) await store.set(key, { i, key });
    for (const [i, key] of keys.entries()) assert.deepEqual(await store.get(key), { i, key });
    for (const key of keys) assert.equal(await served.backing.has(`rt:${key}`), true, key);
    assert.deepEqual((await store.keys()).sort(), [...keys].sort());
    await store.set("zero", 0);
    await store.set("false", false);
    await store.set("empty", "");
    assert.equal(await store.get("zero"), 0);
    assert.equal(await store.get("false"), false);
    assert.equal(await store.get("empty"), "");
    assert.equal(await store.get("missing"), null);
    assert.equal(await store.has("missing"), false);
    assert.equal(await store.del("with/slash"), "with/slash");
    assert.equal(await served.backing.has("rt:with/slash"), false);
    await store.clear();
    assert.deepEqual(await store.keys(), []);
  });

  it("passes expiry as ?expires=<seconds>, kept by the served store", async () => {
    const store = kv(served.url).prefix("exp:");
    // Half a second: a set and a get over HTTP must fit in it on a busy 2-core machine.
    await store.set("brief", "x", { expires: 0.5 });
    await store.set("long", "y", { expires: "1h" });
    assert.equal(await store.get("brief"), "x");
    await sleep(600);
    assert.equal(await store.get("brief"), null);
    assert.deepEqual(await store.entries(), [["long", "y"]]);
  });

  it("lists a prefix as one GET base/?prefix=… with keys relative to it", async () => {
    const store = kv(served.url).prefix("list:");
    await store.set("a:1", 1);
    await store.set("a:2", 2);
    await store.set("b:1", 3);
    const response = await fetch(`${served.url}?prefix=${encodeURIComponent("list:a:")}`);
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { 1: 1, 2: 2 });
    assert.deepEqual(await store.prefix("a:").all(), { 1: 1, 2: 2 });
    const seen = [];
    for await (const [key, value] of store) seen.push([key, value]);
    assert.deepEqual(seen.sort(), [
      ["a:1", 1],
      ["a:2", 2],
      ["b:1", 3],
    ]);
    await store.clear();
  });

  it("each polykv operation is one request, carried out by the served store's own method", async () => {
    const store = kv(served.url).prefix("ops:");
    const backing = served.backing.prefix("ops:");
    const requests = async (work) => {
      const before = served.requests;
      const result = await work();
      return [result, served.requests - before];
    };
    assert.deepEqual(await requests(() => store.increment("n", 2, { expires: 3600 })), [2, 1]);
    assert.deepEqual(await requests(() => store.increment("n", 3)), [5, 1]);
    const deadline = (await backing.getWithMetadata("n")).expires;
    assert.deepEqual(await requests(() => store.getWithMetadata("n")), [
      { value: 5, metadata: null, expires: deadline },
      1,
    ]);
    assert.deepEqual(await requests(() => store.setMany({ a: 1, b: [2] })), [["a", "b"], 1]);
    assert.deepEqual(await requests(() => store.getMany(["b", "x", "a"])), [[[2], null, 1], 1]);
    assert.deepEqual(await requests(() => store.getAndDelete("a")), [1, 1]);
    assert.deepEqual(await requests(() => store.delMany(["b", "n"])), [["b", "n"], 1]);
    // cas: the read, then the server's cas.
    await store.set("c", { v: 1 });
    assert.deepEqual(await requests(() => store.cas("c", { v: 1 }, { v: 2 })), [true, 2]);
    assert.deepEqual(await backing.get("c"), { v: 2 });
    // Bytes and metadata reach the served store as bytes and metadata.
    await store.set("bin", Buffer.from([0, 255]), { metadata: { kind: "raw" } });
    const kept = await backing.getWithMetadata("bin");
    assert.ok(kept.value instanceof Uint8Array && Buffer.from(kept.value).equals(Buffer.from([0, 255])));
    assert.deepEqual(kept.metadata, { kind: "raw" });
    assert.deepEqual([...(await store.get("bin"))], [0, 255], "GET answers bytes in their tagged form");
    const [page, count] = await requests(() => store.list({ limit: 1 }));
    assert.equal(count, 1, "a list() page is one request");
    assert.equal(page.keys.length, 1);
    await store.clear();
  });

  it("a refusal of the served store comes back as the same error", async () => {
    const store = kv(served.url).prefix("refused:");
    await store.set("s", "text");
    await assert.rejects(store.increment("s"), { name: "TypeError", code: "ERR_POLYKV_VALUE" });
    const response = await fetch(`${served.url}?op=nonsense`, { method: "POST", body: "{}" });
    assert.equal(response.status, 400);
    assert.match((await response.json()).error, /unknown operation "nonsense"/);
    const notJson = await fetch(`${served.url}?op=getRecord`, { method: "POST", body: "{" });
    assert.equal(notJson.status, 400);
    await store.clear();
  });

  it("speaks the protocol on the wire: statuses and bodies", async () => {
    const url = `${served.url}${encodeURIComponent("wire/key")}`;
    let response = await fetch(`${url}?expires=60`, { method: "PUT", body: JSON.stringify({ a: [1] }) });
    assert.equal(response.status, 204);
    response = await fetch(url);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type"), /^application\/json/);
    assert.deepEqual(await response.json(), { a: [1] });
    response = await fetch(url, { method: "HEAD" });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "");
    response = await fetch(url, { method: "DELETE" });
    assert.equal(response.status, 204);
    response = await fetch(url);
    assert.equal(response.status, 404);
    assert.match((await response.json()).error, /no value for key "wire\/key"/);
    response = await fetch(url, { method: "DELETE" });
    assert.equal(response.status, 204, "deleting a missing key is fine");
    response = await fetch(url, { method: "PUT", body: "null" });
    assert.equal(response.status, 204, "a null body deletes");
  });

  it("answers bad requests with 4xx and a JSON reason, writing nothing", async () => {
    const cases = [
      [`${served.url}bad`, { method: "PUT", body: "{not json" }, 400, /not valid JSON/],
      [`${served.url}bad`, { method: "PUT", body: "" }, 400, /empty/],
      [`${served.url}bad?expires=soon`, { method: "PUT", body: "1" }, 400, /expires must be a number/],
      [`${served.url}bad?expires=`, { method: "PUT", body: "1" }, 400, /expires must be a number/],
      [`${served.url}%E0%A4%A`, { method: "PUT", body: "1" }, 400, /not valid URI encoding/],
      [`${served.url}bad`, { method: "POST", body: "1" }, 405, /POST is not allowed/],
      [`${served.url}`, { method: "PUT", body: "1" }, 405, /PUT is not allowed/],
      [`${served.url}bad`, { method: "PUT", body: "1".repeat(2_000_000) }, 413, /at most 1048576/],
    ];
    for (const [url, init, status, reason] of cases) {
      const response = await fetch(url, init);
      assert.equal(response.status, status, `${init.method} ${url}`);
      assert.match((await response.json()).error, reason);
    }
    assert.equal(await served.backing.get("bad"), null);
    assert.equal(await served.backing.get(""), null);
  });

  it("refuses a chunked body that grows past the limit, without reading it all", async () => {
    const small = await serve({ maxBodySize: 1000 });
    try {
      const { port } = small;
      const request = http.request({
        port,
        host: "127.0.0.1",
        method: "PUT",
        path: "/big",
        headers: { "content-type": "application/json" },
      });
      request.on("error", () => {}); // the server may close while we still write
      const answered = once(request, "response");
      request.write(`"${"x".repeat(600)}`);
      request.write("x".repeat(600));
      const [response] = await answered;
      assert.equal(response.status ?? response.statusCode, 413);
      response.resume();
      request.destroy();
      assert.equal(await small.backing.get("big"), null);
      assert.equal(await kv(small.url).set("ok", "x".repeat(900)), "ok");
      assert.equal((await small.backing.get("ok")).length, 900);
    } finally {
      await small.close();
    }
  });

  it("survives garbage on the socket and clients that hang up mid-request", async () => {
    const { port } = served;
    const garbage = net.connect(port, "127.0.0.1");
    garbage.on("error", () => {});
    garbage.write("THIS IS NOT HTTP\r\n\r\n");
    const [reply] = await once(garbage, "data");
    assert.match(reply.toString(), /^HTTP\/1\.1 400/);
    garbage.destroy();

    const partial = net.connect(port, "127.0.0.1");
    partial.on("error", () => {});
    await once(partial, "connect");
    partial.write('PUT /half HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":');
    await sleep(20);
    partial.destroy();
    await sleep(20);
    assert.equal(await served.backing.get("half"), null);
    assert.equal(await kv(served.url).get("still-alive"), null);
  });

  it("handles 1 000 concurrent requests mixed with oversized and malformed bodies: no crash, no lost write", async () => {
    await concurrentLoad(served);
    await kv(served.url).prefix("load:").clear();
  });
});

describe("API server over persistent stores: no lost write under concurrency", () => {
  const folder = mkdtempSync(join(tmpdir(), "polykv-api-"));
  after(() => rmSync(folder, { recursive: true, force: true }));

  it("FILE: all 900 accepted writes are in the JSON file", async () => {
    const path = join(folder, "store.json");
    const served = await serve({}, kv(pathToFileURL(path).href));
    try {
      await concurrentLoad(served);
    } finally {
      await served.close();
    }
    const onDisk = JSON.parse(readFileSync(path, "utf8"));
    const written = Object.keys(onDisk).filter((key) => key.startsWith("load:"));
    assert.equal(written.length, 900);
    assert.deepEqual(onDisk["load:k999"].value, { i: 999, text: "value 999" });
  });

  it("SQLITE: all 900 accepted writes are rows in the database", async () => {
    const path = join(folder, "store.db");
    const store = kv(`sqlite://${path}`);
    const served = await serve({}, store);
    try {
      await concurrentLoad(served);
    } finally {
      await served.close();
      await store.close();
    }
    const db = new Database(path, { readonly: true });
    try {
      assert.equal(db.prepare("SELECT count(*) AS n FROM kv WHERE id LIKE 'load:%'").get().n, 900);
      assert.deepEqual(JSON.parse(db.prepare("SELECT value FROM kv WHERE id = 'load:k999'").get().value), {
        i: 999,
        text: "value 999",
      });
    } finally {
      db.close();
    }
  });
});

describe("API client errors", () => {
  it("rejects with the status when the server fails, instead of reading it as missing", async () => {
    const failing = kv({
      get: () => {
        throw new Error("disk on fire");
      },
      set: () => {
        throw new TypeError("this store refuses that value");
      },
      iterate: async function* () {},
      HAS_EXPIRATION: true,
    });
    const served = await serve({ onError: () => {} }, failing);
    try {
      const store = kv(served.url);
      await assert.rejects(store.get("k"), {
        message: /\[API\] GET http:\/\/127\.0\.0\.1:\d+\/k answered 500 .*the store failed/,
      });
      await assert.rejects(store.set("k", 1), { message: /answered 400 .*refuses that value/ });
      // polystore's client reads the same failure as "missing".
      assert.equal(await polystore(served.url).get("k"), null);
    } finally {
      await served.close();
    }
  });

  it("rejects with a clear error when nothing listens", async () => {
    const served = await serve();
    const url = served.url;
    await served.close();
    const store = kv(url);
    await assert.rejects(store.get("k"), {
      message: /\[API\] GET http:\/\/127\.0\.0\.1:\d+\/k failed: .*ECONNREFUSED/,
    });
    await assert.rejects(store.set("k", 1), /\[API\] PUT .* failed/);
  });

  it("refuses a value JSON cannot hold before sending anything", async () => {
    const served = await serve();
    try {
      const before = served.requests;
      await assert.rejects(kv(served.url).set("k", { n: 1n }), { name: "TypeError", message: /key "k".*BigInt/ });
      assert.equal(served.requests, before);
    } finally {
      await served.close();
    }
  });
});

describe("polystore's API client against polykv/server", () => {
  let served;
  before(async () => {
    served = await serve();
  });
  after(() => served.close());

  it("sets, reads, lists, expires and deletes through our server", async () => {
    const theirs = polystore(served.url, { prefix: "ps:" });
    const ours = kv(served.url, { prefix: "ps:" });
    await theirs.set("a", { from: "polystore" });
    await theirs.set("b/c d", [1, 2]);
    await theirs.set("brief", 1, { expires: 0.5 });
    await ours.set("mine", "polykv");
    assert.deepEqual(await ours.get("a"), { from: "polystore" });
    assert.deepEqual(await theirs.get("mine"), "polykv");
    assert.deepEqual(await theirs.get("b/c d"), [1, 2]);
    assert.equal(await theirs.has("brief"), true);
    await sleep(600);
    assert.equal(await theirs.get("brief"), null);
    assert.deepEqual((await theirs.keys()).sort(), ["a", "b/c d", "mine"]);
    assert.deepEqual(await theirs.prefix("b/").all(), { "c d": [1, 2] });
    await theirs.del("a");
    assert.equal(await ours.get("a"), null);
    assert.deepEqual((await served.backing.keys()).sort(), ["ps:b/c d", "ps:mine"]);
  });
});

describe("polykv/server options", () => {
  it("serves under a base path, 404 elsewhere", async () => {
    const served = await serve({ base: "/kv" });
    try {
      assert.match(served.url, /^http:\/\/127\.0\.0\.1:\d+\/kv\/$/);
      const store = kv(served.url);
      await store.set("x", 1);
      assert.equal(await served.backing.get("x"), 1);
      const response = await fetch(served.url.replace("/kv/", "/other/x"));
      assert.equal(response.status, 404);
      assert.match((await response.json()).error, /served under \/kv\//);
    } finally {
      await served.close();
    }
  });

  it("answers CORS preflights when asked to", async () => {
    const served = await serve({ cors: "https://app.example" });
    try {
      let response = await fetch(`${served.url}k`, { method: "OPTIONS" });
      assert.equal(response.status, 204);
      assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example");
      assert.match(response.headers.get("access-control-allow-methods"), /PUT/);
      response = await fetch(`${served.url}k`);
      assert.equal(response.headers.get("access-control-allow-origin"), "https://app.example");
    } finally {
      await served.close();
    }
  });

  it("createServer() and createHandler() work with the caller's own listen", async () => {
    const backing = kv();
    const server = createServer(backing, { base: "/a/" });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const plain = http.createServer(createHandler(backing, { base: "/b/" }));
    plain.listen(0, "127.0.0.1");
    await once(plain, "listening");
    try {
      await kv(`http://127.0.0.1:${server.address().port}/a/`).set("shared", 42);
      assert.equal(await kv(`http://127.0.0.1:${plain.address().port}/b/`).get("shared"), 42);
    } finally {
      server.closeAllConnections();
      plain.closeAllConnections();
      server.close();
      plain.close();
    }
  });

  it("refuses something that is not a store, or a bad option, with a TypeError", () => {
    assert.throws(() => createServer({}), { name: "TypeError", message: /expected a polykv store/ });
    assert.throws(() => createHandler(kv(), { maxBodySize: -1 }), { name: "TypeError", message: /maxBodySize/ });
    assert.throws(() => createHandler(kv(), { base: 5 }), { name: "TypeError", message: /base option/ });
  });
});

// A TCP server that accepts connections and never answers; resolves { url, close }.
async function silentServer() {
  const sockets = new Set();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((done) => server.close(done));
    },
  };
}

// Sends a raw request with http.request (fetch cannot set Host); resolves { status, headers, body }.
function rawRequest(port, { method = "GET", path = "/", headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, method, path, headers }, (response) => {
      let text = "";
      response.on("data", (chunk) => (text += chunk));
      response.on("end", () => resolve({ status: response.statusCode, headers: response.headers, body: text }));
    });
    request.on("error", reject);
    request.end(body);
  });
}

describe("API client: timeouts, redirects, tokens, the empty key (docs/behaviour.md §36)", () => {
  it(
    "a server that never answers: each call rejects after `timeout` ms instead of hanging",
    { timeout: 20_000 },
    async () => {
      const silent = await silentServer();
      try {
        const store = kv(silent.url, { timeout: 300 });
        const started = performance.now();
        const results = await Promise.allSettled([store.get("a"), store.set("b", 1), store.keys()]);
        const waited = performance.now() - started;
        for (const result of results) {
          assert.equal(result.status, "rejected");
          assert.equal(result.reason.code, "ERR_POLYKV_CONNECTION");
          assert.match(
            result.reason.message,
            /^\[polykv\] \[API\] (GET|PUT) http:\/\/127\.0\.0\.1:\d+\/.* failed: no answer within 300 ms/,
          );
        }
        assert.ok(waited >= 290 && waited < 2000, `rejected after ${Math.round(waited)} ms`);
      } finally {
        await silent.close();
      }
    },
  );

  it("a body that stops halfway is under the same deadline", { timeout: 20_000 }, async () => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write('{"half":'); // and never the rest
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    try {
      const store = kv(`http://127.0.0.1:${server.address().port}/`, { timeout: 300 });
      await assert.rejects(store.get("k"), { code: "ERR_POLYKV_CONNECTION", message: /no answer within 300 ms/ });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("the timeout option must be a positive number; the default is 10 s", { timeout: 20_000 }, async () => {
    for (const timeout of [0, -1, "5", NaN, null]) {
      assert.throws(() => kv("http://127.0.0.1:9/", { timeout }), { name: "TypeError", code: "ERR_POLYKV_OPTIONS" });
    }
    assert.equal(kv("http://127.0.0.1:9/", { timeout: Infinity }).type, "API");
  });

  it("a redirect is not followed: the PUT body never reaches the other origin", { timeout: 20_000 }, async () => {
    let elsewhere = 0;
    const other = http.createServer((req, res) => {
      elsewhere++;
      req.resume();
      res.writeHead(204).end();
    });
    other.listen(0, "127.0.0.1");
    await once(other, "listening");
    const target = `http://127.0.0.1:${other.address().port}/stolen`;
    const redirecting = http.createServer((req, res) => {
      req.resume();
      res.writeHead(307, { location: target }).end();
    });
    redirecting.listen(0, "127.0.0.1");
    await once(redirecting, "listening");
    try {
      const store = kv(`http://127.0.0.1:${redirecting.address().port}/`, { token: "t0ken" });
      await assert.rejects(store.set("k", { secret: 1 }), {
        code: "ERR_POLYKV_BACKEND",
        message: /PUT .* answered a redirect \(307\) to http:\/\/127\.0\.0\.1:\d+\/stolen; polykv does not follow/,
      });
      await assert.rejects(store.get("k"), /redirect \(307\)/);
      assert.equal(elsewhere, 0);
    } finally {
      for (const server of [redirecting, other]) {
        server.closeAllConnections();
        server.close();
      }
    }
  });

  it('get("") is a TypeError, not the whole listing, and sends nothing', { timeout: 20_000 }, async () => {
    const served = await serve();
    try {
      await served.backing.set("secret", 1);
      const store = kv(served.url);
      const before = served.requests;
      for (const call of [() => store.get(""), () => store.set("", 1), () => store.del(""), () => store.has("")]) {
        await assert.rejects(call, { name: "TypeError", code: "ERR_POLYKV_KEY", message: /empty key/ });
      }
      assert.equal(served.requests, before);
      assert.equal(await store.prefix("sec").get("ret"), 1, "only the empty full key is refused");
    } finally {
      await served.close();
    }
  });

  it("pages through a big listing with ?limit and the server's x-polykv-next cursor", { timeout: 20_000 }, async () => {
    const served = await serve();
    try {
      const backing = served.backing.prefix("p:");
      await Promise.all(Array.from({ length: 2500 }, (_, i) => backing.set(`k${i}`, i)));
      await served.backing.set("other", 1);
      const before = served.requests;
      const entries = await kv(served.url).prefix("p:").entries();
      assert.equal(served.requests - before, 3, "1 000 entries a request");
      assert.equal(entries.length, 2500);
      assert.deepEqual(new Set(entries.map(([key]) => key)).size, 2500);
      assert.ok(entries.every(([key, value]) => key === `k${value}`));
    } finally {
      await served.close();
    }
  });
});

describe("polykv/server: authentication, Host check, limits (docs/behaviour.md §36)", () => {
  it(
    "with a token, only requests bearing it are served; kv(url, { token }) sends it",
    { timeout: 20_000 },
    async () => {
      const served = await serve({ token: "s3cret-token" });
      try {
        await served.backing.set("k", "v");
        assert.equal((await fetch(`${served.url}k`)).status, 401);
        const wrong = await fetch(`${served.url}k`, { headers: { authorization: "Bearer s3cret-tokeX" } });
        assert.equal(wrong.status, 401);
        assert.equal(wrong.headers.get("www-authenticate"), "Bearer");
        assert.equal((await fetch(`${served.url}?prefix=`)).status, 401, "listings too");
        const store = kv(served.url, { token: "s3cret-token" });
        assert.equal(await store.get("k"), "v");
        await store.set("k2", 2);
        assert.deepEqual((await store.keys()).sort(), ["k", "k2"]);
        await assert.rejects(kv(served.url).get("k"), { code: "ERR_POLYKV_BACKEND", message: /answered 401/ });
        await assert.rejects(kv(served.url, { token: "nope" }).set("k", 3), /answered 401/);
        assert.equal(await served.backing.get("k"), "v");
      } finally {
        await served.close();
      }
    },
  );

  it("listen() refuses a non-loopback address without a token", { timeout: 20_000 }, async () => {
    for (const host of ["0.0.0.0", "::", "192.168.1.10"]) {
      assert.throws(() => listen(kv(), { host }), {
        code: "ERR_POLYKV_OPTIONS",
        message: /without authentication: pass a token/,
      });
    }
    const served = await listen(kv(), { host: "0.0.0.0", token: "t" });
    try {
      assert.match(served.url, /^http:\/\/0\.0\.0\.0:\d+\/$/);
      assert.equal(await kv(`http://127.0.0.1:${served.port}/`, { token: "t" }).get("x"), null);
    } finally {
      await served.close();
    }
  });

  it(
    "without a token, a Host header that is not this machine's is refused (DNS rebinding)",
    { timeout: 20_000 },
    async () => {
      const served = await serve();
      const hosted = await serve({ hosts: ["kv.internal"] });
      try {
        await served.backing.set("k", 1);
        for (const host of [
          `localhost:${served.port}`,
          `127.0.0.1:${served.port}`,
          `[::1]:${served.port}`,
          "app.localhost",
        ]) {
          assert.equal((await rawRequest(served.port, { path: "/k", headers: { host } })).status, 200, host);
        }
        for (const host of [`evil.example:${served.port}`, "127.0.0.1.evil.example", "kv.internal"]) {
          const answer = await rawRequest(served.port, { path: "/k", headers: { host } });
          assert.equal(answer.status, 403, host);
          assert.match(JSON.parse(answer.body).error, /Host header/);
        }
        assert.equal((await rawRequest(hosted.port, { path: "/k", headers: { host: "kv.internal:80" } })).status, 404);
        assert.equal((await rawRequest(hosted.port, { path: "/k", headers: { host: "localhost" } })).status, 403);
      } finally {
        await served.close();
        await hosted.close();
      }
    },
  );

  it("readOnly refuses PUT and DELETE with 405 and serves reads", { timeout: 20_000 }, async () => {
    const backing = kv();
    await backing.set("k", 1);
    const served = await serve({ readOnly: true }, backing);
    try {
      const store = kv(served.url);
      assert.equal(await store.get("k"), 1);
      assert.deepEqual(await store.keys(), ["k"]);
      await assert.rejects(store.set("k", 2), /answered 405 .*read-only/);
      await assert.rejects(store.del("k"), /answered 405/);
      assert.equal(await backing.get("k"), 1);
    } finally {
      await served.close();
    }
  });

  it("a key over maxKeyLength is a 400; so is a listing prefix", { timeout: 20_000 }, async () => {
    const served = await serve({ maxKeyLength: 50 });
    try {
      const store = kv(served.url);
      await store.set("k".repeat(50), 1);
      await assert.rejects(store.set("k".repeat(51), 1), /answered 400 .*over 50 characters/);
      await assert.rejects(store.get("k".repeat(51)), /answered 400/);
      await assert.rejects(store.prefix("p".repeat(51)).keys(), /answered 400 .*prefix/);
      const defaults = await serve();
      await assert.rejects(kv(defaults.url).set("k".repeat(1025), 1), /over 1024 characters/);
      await defaults.close();
    } finally {
      await served.close();
    }
  });

  it("polykv's POST operations need the token too", { timeout: 20_000 }, async () => {
    const served = await serve({ token: "s3cret-token" });
    try {
      const post = (headers) =>
        fetch(`${served.url}?op=increment`, { method: "POST", headers, body: '{"key":"n","by":1}' });
      assert.equal((await post({})).status, 401);
      assert.equal((await post({ authorization: "Bearer wrong" })).status, 401);
      await assert.rejects(kv(served.url).increment("n"), /answered 401/);
      await assert.rejects(kv(served.url).getWithMetadata("n"), /answered 401/);
      assert.equal(await served.backing.get("n"), null, "nothing was written");
      assert.equal(await kv(served.url, { token: "s3cret-token" }).increment("n"), 1);
    } finally {
      await served.close();
    }
  });

  it("readOnly refuses the writing operations with 405 and answers the reading ones", { timeout: 20_000 }, async () => {
    const backing = kv();
    await backing.set("k", 1, { metadata: { m: 1 } });
    await backing.set("n", 5);
    const served = await serve({ readOnly: true }, backing);
    try {
      const store = kv(served.url);
      const refused = { message: /answered 405 .*read-only: \w+ writes/ };
      await assert.rejects(store.increment("n"), refused);
      await assert.rejects(store.cas("n", 5, 6), refused);
      await assert.rejects(store.getAndDelete("k"), refused);
      await assert.rejects(store.touch("k", { expires: 60 }), refused);
      await assert.rejects(store.set("b", new Uint8Array([1])), refused);
      await assert.rejects(store.set("k", 2, { metadata: { m: 2 } }), refused);
      await assert.rejects(store.setMany([["x", 1]]), refused);
      await assert.rejects(store.delMany(["k"]), refused);
      const answer = await fetch(`${served.url}?op=delMany`, { method: "POST", body: '{"keys":["k"]}' });
      assert.equal(answer.status, 405);
      assert.match(answer.headers.get("allow"), /POST/);
      assert.deepEqual(await backing.getMany(["k", "n", "b", "x"]), [1, 5, null, null], "nothing changed");
      assert.deepEqual(await store.getWithMetadata("k"), { value: 1, metadata: { m: 1 }, expires: null });
      assert.deepEqual(await store.getMany(["k", "n"]), [1, 5]);
      assert.deepEqual(
        (await store.list()).keys.map((key) => key.name),
        ["k", "n"],
      );
    } finally {
      await served.close();
    }
  });

  it("the operations keep maxKeyLength (400) and maxListing (413)", { timeout: 20_000 }, async () => {
    const served = await serve({ maxKeyLength: 50, maxListing: 10 });
    try {
      const store = kv(served.url);
      const long = "k".repeat(51);
      for (const call of [
        () => store.increment(long),
        () => store.getWithMetadata(long),
        () => store.getMany(["a", long]),
        () => store.setMany([[long, 1]]),
        () => store.delMany([long]),
        () => store.set(long, new Uint8Array([1])),
        () => store.prefix("p".repeat(51)).list(),
      ]) {
        await assert.rejects(call(), /answered 400 .*over 50 characters/);
      }
      const keys = Array.from({ length: 11 }, (_, i) => `k${i}`);
      await assert.rejects(store.getMany(keys), /answered 413 .*more than 10 keys/);
      await assert.rejects(store.setMany(keys.map((key) => [key, 1])), /answered 413/);
      assert.deepEqual(await served.backing.keys(), [], "nothing was written");
      await served.backing.setMany(keys.map((key) => [key, 1]));
      const page = await store.list({ limit: 100 });
      assert.equal(page.keys.length, 10, "a page is at most maxListing");
      assert.equal(page.list_complete, false);
      assert.equal((await store.list({ cursor: page.cursor })).keys.length, 1);
    } finally {
      await served.close();
    }
  });

  it(
    "listings page with ?limit=&after=, and an unpaged one over maxListing is a 413",
    { timeout: 20_000 },
    async () => {
      const served = await serve({ maxListing: 5 });
      try {
        for (const key of ["a", "b", "c", "d", "e", "f", "g"]) await served.backing.set(key, key);
        let response = await fetch(`${served.url}?prefix=&limit=3`);
        assert.deepEqual(await response.json(), { a: "a", b: "b", c: "c" });
        assert.equal(response.headers.get("x-polykv-next"), "c");
        response = await fetch(`${served.url}?prefix=&limit=3&after=c`);
        assert.deepEqual(Object.keys(await response.json()), ["d", "e", "f"]);
        response = await fetch(`${served.url}?prefix=&limit=3&after=f`);
        assert.deepEqual(await response.json(), { g: "g" });
        assert.equal(response.headers.get("x-polykv-next"), null);
        response = await fetch(`${served.url}?prefix=`);
        assert.equal(response.status, 413);
        assert.match((await response.json()).error, /more than 5 entries: page with \?limit/);
        response = await fetch(`${served.url}?prefix=&limit=6`);
        assert.equal(Object.keys(await response.json()).length, 5, "a page is at most maxListing");
        assert.equal(response.headers.get("x-polykv-next"), "e");
        assert.equal((await fetch(`${served.url}?prefix=&limit=0`)).status, 400);
        assert.equal((await kv(served.url).keys()).length, 7, "polykv's client pages by itself");
      } finally {
        await served.close();
      }
    },
  );

  it("a failing store gets a generic 500 body; the details go to onError", { timeout: 20_000 }, async () => {
    const seen = [];
    const failing = kv({
      get: () => {
        throw new Error('EACCES: permission denied, open "/srv/private/secret-key.json"');
      },
      set: () => {},
      HAS_EXPIRATION: true,
    });
    const served = await serve({ onError: (error, req) => seen.push([error.message, req.method]) }, failing);
    try {
      const response = await fetch(`${served.url}secret-key`);
      assert.equal(response.status, 500);
      const body = await response.text();
      assert.deepEqual(JSON.parse(body), { error: "the store failed; the server's log has the details" });
      assert.ok(!body.includes("/srv") && !body.includes("secret-key"), body);
      assert.deepEqual(seen, [['EACCES: permission denied, open "/srv/private/secret-key.json"', "GET"]]);
    } finally {
      await served.close();
    }
  });

  it("its own header and request timeouts and connection cap, not Node's defaults", { timeout: 20_000 }, async () => {
    const served = await serve({ headersTimeout: 400, requestTimeout: 800, maxConnections: 3 });
    const defaults = await serve();
    const sockets = [];
    // Each socket's close is watched from the start: one may close while the test still
    // waits on another (the server checks its timeouts once a second, in any order).
    const closes = new Map();
    const open = async () => {
      const socket = net.connect(served.port, "127.0.0.1");
      socket.on("error", () => {});
      socket.resume(); // read, so the server's close is seen
      sockets.push(socket);
      closes.set(socket, once(socket, "close"));
      await once(socket, "connect");
      return socket;
    };
    const closedWithin = (socket, ms) =>
      Promise.race([closes.get(socket).then(() => true), sleep(ms).then(() => false)]);
    try {
      assert.equal(defaults.server.headersTimeout, 10_000);
      assert.equal(defaults.server.requestTimeout, 30_000);
      assert.equal(defaults.server.maxConnections, 1024);
      // Headers that never end, then a body that never ends: both dropped on time.
      const slowHeaders = await open();
      slowHeaders.write("GET /k HTTP/1.1\r\nHost: localhost\r\n");
      const slowBody = await open();
      slowBody.write("PUT /k HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{");
      const started = performance.now();
      // (Node's defaults would hold them 60 s and 300 s; the bounds leave room for a loaded machine.)
      assert.ok(await closedWithin(slowHeaders, 5000), "slow headers closed");
      assert.ok(await closedWithin(slowBody, 5000), "slow body closed");
      assert.ok(performance.now() - started < 5000);
      assert.equal(await served.backing.get("k"), null);
      // Three connections at once: a fourth is refused.
      const held = [await open(), await open(), await open()];
      const fourth = await open();
      assert.ok(await closedWithin(fourth, 3000), "the fourth connection is closed at once");
      for (const socket of held) socket.destroy();
    } finally {
      for (const socket of sockets) socket.destroy();
      await served.close();
      await defaults.close();
    }
  });

  it("bodies held at once are capped over all requests (maxBuffered): past it, 503", { timeout: 20_000 }, async () => {
    const served = await serve({ maxBuffered: 1000 });
    const stalled = net.connect(served.port, "127.0.0.1");
    stalled.on("error", () => {});
    try {
      await once(stalled, "connect");
      stalled.write(`PUT /a HTTP/1.1\r\nHost: localhost\r\nContent-Length: 900\r\n\r\n"${"x".repeat(700)}`);
      await sleep(100);
      const second = await rawRequest(served.port, {
        method: "PUT",
        path: "/b",
        headers: { host: "localhost", "content-length": "600" },
        body: `"${"y".repeat(598)}"`,
      });
      assert.equal(second.status, 503);
      stalled.destroy();
      await sleep(100);
      assert.equal(await kv(served.url).set("c", "z".repeat(500)), "c", "the budget is released");
    } finally {
      stalled.destroy();
      await served.close();
    }
  });

  it("serves HTTPS with the tls option", { timeout: 20_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "polykv-https-"));
    try {
      const openssl = spawnSync(
        "openssl",
        [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-keyout",
          "key.pem",
          "-out",
          "cert.pem",
          "-days",
          "2",
        ].concat(["-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"]),
        { cwd: dir },
      );
      assert.equal(openssl.status, 0, String(openssl.stderr));
      const cert = readFileSync(join(dir, "cert.pem"));
      const served = await listen(kv(), { tls: { key: readFileSync(join(dir, "key.pem")), cert } });
      try {
        assert.match(served.url, /^https:\/\/127\.0\.0\.1:\d+\/$/);
        const answer = await new Promise((resolve, reject) => {
          const request = https.request(`${served.url}k`, { method: "PUT", ca: cert }, (response) => {
            response.resume();
            response.on("end", () => resolve(response.statusCode));
          });
          request.on("error", reject);
          request.end('"over tls"');
        });
        assert.equal(answer, 204);
      } finally {
        await served.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

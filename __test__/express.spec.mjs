// polykv/express under the real express + express-session, over real HTTP on loopback.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import kv from "polykv";
import polykvStore, { ExpressStore } from "polykv/express";
import { rows, dir, sleep } from "./fixtures/integration-stores.mjs";
import { app, listen } from "./fixtures/express-app.mjs";
import { Client } from "./fixtures/http-client.mjs";

const APP = fileURLToPath(new URL("./fixtures/express-app.mjs", import.meta.url));

async function serve(client, options) {
  const { application, store } = app(client, options);
  const server = await listen(application);
  after(() => server.close());
  return { client: new Client(`http://127.0.0.1:${server.address().port}`), store, server };
}

// Callback API as a promise.
const call = (store, method, ...args) =>
  new Promise((resolve, reject) => store[method](...args, (error, value) => (error ? reject(error) : resolve(value))));

for (const row of rows) {
  describe(`polykv/express over ${row.name}`, () => {
    it("a cookie-carrying client counts across requests", async () => {
      const { client } = await serve(row.make());
      assert.deepEqual(await client.get("/count"), { count: 1 });
      assert.deepEqual(await client.get("/count"), { count: 2 });
      assert.deepEqual(await client.get("/count"), { count: 3 });
      assert.deepEqual(await new Client(client.base).get("/count"), { count: 1 }, "another client has its own session");
    });

    it("a session expires with its cookie", async () => {
      const { client } = await serve(row.make(), { maxAge: 1000 });
      assert.deepEqual(await client.get("/count"), { count: 1 });
      assert.deepEqual(await client.get("/count"), { count: 2 });
      await sleep(1300);
      assert.deepEqual(await client.get("/peek"), { count: null });
    });

    it("touch() moves the expiry of a session that was only read", async () => {
      const { client } = await serve(row.make(), { maxAge: 1500 });
      assert.deepEqual(await client.get("/count"), { count: 1 });
      await sleep(1000);
      assert.deepEqual(await client.get("/peek"), { count: 1 }); // unmodified: express-session calls touch()
      await sleep(1000); // 2 s after the write: gone without the touch
      assert.deepEqual(await client.get("/peek"), { count: 1 });
      await sleep(1800);
      assert.deepEqual(await client.get("/peek"), { count: null });
    });

    it("touch() moves only the expiry: a session written meanwhile is kept", async () => {
      const store = polykvStore(row.make());
      const cookie = { expires: new Date(Date.now() + 60_000) };
      await call(store, "set", "sid", { cookie, count: 1 });
      await call(store, "set", "sid", { cookie, count: 2 }); // another request's write
      await call(store, "touch", "sid", { cookie: { expires: new Date(Date.now() + 120_000) }, count: 1 });
      assert.equal((await call(store, "get", "sid")).count, 2);
      const { expires } = await store.store.getWithMetadata("sid");
      if (expires !== null) assert.ok(expires > Date.now() + 90_000, "the expiry moved");
    });

    it("all() is keyed by sid, length() counts, destroy() and clear() delete", async () => {
      const store = polykvStore(row.make()).prefix("sess:");
      assert.ok(store instanceof ExpressStore);
      await call(store, "set", "a", { cookie: {}, user: "ada" });
      await call(store, "set", "b", { cookie: {}, user: "bob" });
      assert.deepEqual(await call(store, "all"), { a: { cookie: {}, user: "ada" }, b: { cookie: {}, user: "bob" } });
      assert.equal(await call(store, "length"), 2);
      await call(store, "destroy", "a");
      assert.equal(await call(store, "get", "a"), null);
      assert.equal(await call(store, "length"), 1);
      await call(store, "clear");
      assert.equal(await call(store, "length"), 0);
    });
  });
}

describe("polykv/express sessions", () => {
  it("a session survives a restart of the server process on a SQLite store", async () => {
    const url = `sqlite://${join(dir, "express-restart.db")}`;
    const start = async () => {
      const child = spawn(process.execPath, [APP, url], { stdio: ["ignore", "pipe", "inherit"] });
      const [chunk] = await once(child.stdout, "data");
      return { child, base: `http://127.0.0.1:${Number(String(chunk).trim())}` };
    };
    const first = await start();
    const client = new Client(first.base);
    assert.deepEqual(await client.get("/count"), { count: 1 });
    assert.deepEqual(await client.get("/count"), { count: 2 });
    first.child.kill();
    await once(first.child, "exit");
    const second = await start();
    try {
      client.base = second.base;
      assert.deepEqual(await client.get("/count"), { count: 3 });
    } finally {
      second.child.kill();
      await once(second.child, "exit");
    }
  });

  it("a memory store saves a copy: changing the session object later changes nothing stored", async () => {
    const store = polykvStore();
    const session = { cookie: {}, cart: ["apple"] };
    await call(store, "set", "sid", session);
    session.cart.push("pear");
    assert.deepEqual((await call(store, "get", "sid")).cart, ["apple"]);
  });

  it("takes anything kv() takes: a URL, a client, a store (keeping its prefix)", async () => {
    const inner = kv().prefix("app:");
    const store = polykvStore(inner).prefix("sess:");
    await call(store, "set", "x", { cookie: {}, n: 1 });
    assert.deepEqual(await inner.keys(), ["sess:x"]);
    assert.equal(polykvStore(new Map()).store.type, "MEMORY");
    assert.equal(polykvStore(`sqlite://${join(dir, "express-url.db")}`).store.type, "SQLITE");
  });

  it("a failing store reaches the callback as an error", async () => {
    const store = polykvStore({ get: () => Promise.reject(new Error("boom")), set() {} });
    await assert.rejects(call(store, "get", "sid"), /boom/);
  });
});

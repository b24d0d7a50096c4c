// polykv/hono-sessions under the real hono + hono-sessions, through app.request().
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Hono } from "hono";
import { sessionMiddleware } from "hono-sessions";
import polykvStore, { HonoSessionStore } from "polykv/hono-sessions";
import { rows, sleep } from "./fixtures/integration-stores.mjs";

function counter(store, expireAfterSeconds) {
  const app = new Hono();
  app.use("*", sessionMiddleware({ store, expireAfterSeconds, autoExtendExpiration: false }));
  app.get("/count", (c) => {
    const session = c.get("session");
    const count = (session.get("count") ?? 0) + 1;
    session.set("count", count);
    return c.json({ count });
  });
  app.get("/logout", (c) => {
    c.get("session").deleteSession();
    return c.json({ ok: true });
  });
  let cookie = "";
  const request = async (path) => {
    const response = await app.request(path, { headers: cookie ? { cookie } : {} });
    const set = response.headers.get("set-cookie");
    if (set) cookie = set.split(";")[0];
    return response.json();
  };
  return { request, sid: () => cookie.split("=")[1] };
}

for (const row of rows) {
  describe(`polykv/hono-sessions over ${row.name}`, () => {
    it("counts across requests and deletes on logout", async () => {
      const store = polykvStore(row.make()).prefix("hono:");
      assert.ok(store instanceof HonoSessionStore);
      const app = counter(store);
      assert.deepEqual(await app.request("/count"), { count: 1 });
      assert.deepEqual(await app.request("/count"), { count: 2 });
      const sid = app.sid();
      assert.equal((await store.getSessionById(sid))._data.count.value, 2);
      assert.deepEqual(await app.request("/logout"), { ok: true });
      assert.equal(await store.getSessionById(sid), null);
      assert.equal(await store.getSessionById(undefined), null);
    });

    it("a session record expires with its _expire", async () => {
      const store = polykvStore(row.make());
      const app = counter(store, 1);
      assert.deepEqual(await app.request("/count"), { count: 1 });
      const sid = app.sid();
      const { _expire } = await store.getSessionById(sid);
      assert.ok(_expire, "hono-sessions set an expiry");
      const { expires } = await store.store.getWithMetadata(sid);
      if (expires !== null) assert.ok(Math.abs(expires - Date.parse(_expire)) < 50, "stored with that deadline");
      await sleep(1100);
      assert.equal(await store.store.get(sid), null, "the record itself is gone, not only refused");
      assert.deepEqual(await app.request("/count"), { count: 1 });
    });
  });
}

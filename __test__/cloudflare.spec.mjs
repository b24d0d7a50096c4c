// CLOUDFLARE: a Workers KV namespace, in process: miniflare's KVNamespace over
// its in-memory storage (the KV simulator Cloudflare's own local tooling runs).
// Its clock is ours, so expiry after KV's 60 s minimum is tested without waiting.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KVNamespace } from "@miniflare/kv";
import { MemoryStorage } from "@miniflare/storage-memory";
import polystore from "polystore";
import kv from "../index.mjs";
import { run } from "./suite/index.mjs";

// A namespace plus a clock we move by hand (ms since the epoch).
function namespace() {
  const clock = { now: Date.now() };
  const storage = new MemoryStorage(undefined, () => clock.now);
  const ns = new KVNamespace(storage, { clock: () => clock.now });
  return { ns, clock };
}

describe("cloudflare driver", () => {
  it("is recognised as CLOUDFLARE and round-trips values", async () => {
    const { ns } = namespace();
    const store = kv(ns);
    assert.equal(store.type, "CLOUDFLARE");
    await store.set("a", { list: [1, "two", null] });
    await store.set("f", false);
    assert.deepEqual(await store.get("a"), { list: [1, "two", null] });
    assert.equal(await store.get("f"), false);
    assert.equal(await store.get("missing"), null);
    assert.equal(await store.has("f"), true);
    await store.del("f");
    assert.equal(await store.has("f"), false);
  });

  it("stores the value's JSON text under the full key, readable by polystore, and reads polystore's", async () => {
    const { ns } = namespace();
    const store = kv(ns, { prefix: "app:" });
    await store.set("user", { name: "Ada" });
    assert.deepEqual(JSON.parse(await ns.get("app:user")), { name: "Ada" });
    const theirs = polystore(ns, { prefix: "app:" });
    assert.deepEqual(await theirs.get("user"), { name: "Ada" });
    await theirs.set("theirs", [1, 2], { expires: "2 minutes" });
    assert.deepEqual(await store.get("theirs"), [1, 2]);
    assert.deepEqual((await store.keys()).sort(), ["theirs", "user"]);
  });

  it("refuses an expiry under KV's 60 s minimum before writing anything", async () => {
    const { ns } = namespace();
    const store = kv(ns);
    await store.set("k", "old");
    await assert.rejects(store.set("k", "new", { expires: 30 }), { message: /min expiration is '60s'.*"k"/ });
    // polystore rounds 0.4 s down to "no expiry" and keeps the value forever; we refuse it.
    await assert.rejects(store.set("k", "new", { expires: 0.4 }), /60s/);
    assert.equal(await store.get("k"), "old");
    assert.equal(await ns.get("k"), '"old"');
  });

  it("lets KV expire a record after its TTL (checked with a moved clock)", async () => {
    const { ns, clock } = namespace();
    const store = kv(ns);
    await store.set("soon", 1, { expires: 60 });
    await store.set("later", 2, { expires: "1h" });
    await store.set("never", 3);
    const listed = await ns.list();
    const expiration = Object.fromEntries(listed.keys.map((key) => [key.name, key.expiration]));
    assert.equal(expiration.soon, Math.floor(clock.now / 1000) + 60);
    assert.equal(expiration.never, undefined);
    clock.now += 61_000;
    assert.equal(await store.get("soon"), null);
    assert.equal(await store.has("soon"), false);
    assert.deepEqual((await store.entries()).sort(), [
      ["later", 2],
      ["never", 3],
    ]);
  });

  it("follows list() cursors past KV's 1 000-key page", async () => {
    const { ns } = namespace();
    const store = kv(ns).prefix("many:");
    const count = 2_345;
    for (let i = 0; i < count; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, j) => store.set(`k${i + j}`, i + j)));
    }
    await ns.put("other", "1");
    const keys = await store.keys();
    assert.equal(keys.length, count);
    assert.equal(new Set(keys).size, count);
    const values = await store.values();
    assert.equal(
      values.reduce((sum, v) => sum + v, 0),
      (count * (count - 1)) / 2,
    );
    let seen = 0;
    for await (const [key, value] of store) {
      assert.equal(key, `k${value}`);
      seen++;
    }
    assert.equal(seen, count);
    await store.clear();
    assert.deepEqual(await store.keys(), []);
    assert.equal(await ns.get("other"), "1");
  });

  it("getWithMetadata and list() answer as the namespace itself does", async () => {
    const { ns } = namespace();
    const store = kv(ns, { prefix: "app:" });
    await store.set("plain", { n: 1 });
    await store.set("meta", [2], { metadata: { tag: "x", n: [1] } });
    await store.set("ttl", "t", { expires: 3600, metadata: false });
    await store.set("bin", Buffer.from([0, 1, 255]), { metadata: "bytes" });
    for (let i = 0; i < 5; i++) await store.set(`many:${i}`, i, { metadata: { i } });
    for (const name of ["plain", "meta", "ttl", "bin", "missing"]) {
      const theirs = await ns.getWithMetadata(`app:${name}`, "arrayBuffer");
      const ours = await store.getWithMetadata(name);
      assert.deepEqual(ours.metadata, theirs.metadata, name);
    }
    assert.deepEqual((await store.getWithMetadata("meta")).value, JSON.parse(await ns.get("app:meta")));
    const listed = await ns.list({ prefix: "app:" });
    const expiration = listed.keys.find((key) => key.name === "app:ttl").expiration;
    assert.equal((await store.getWithMetadata("ttl")).expires, expiration * 1000, "the deadline is KV's expiration");
    // Pages of 3, as KV pages them: the same names, expirations and metadata, in order.
    const pages = [];
    let cursor;
    do {
      const page = await store.list({ limit: 3, cursor });
      pages.push(...page.keys);
      cursor = page.cursor;
    } while (cursor);
    assert.deepEqual(
      pages,
      // (miniflare writes an absent field as undefined; KV's wire format omits it)
      JSON.parse(
        JSON.stringify(listed.keys.map(({ name, ...rest }) => ({ name: name.slice("app:".length), ...rest }))),
      ),
    );
  });

  it("keeps metadata as KV metadata and bytes as bytes, and polystore reads the JSON values", async () => {
    const { ns } = namespace();
    const store = kv(ns);
    await store.set("m", { v: 1 }, { metadata: { m: 1 } });
    await store.set("b", Buffer.from([7, 0, 255]));
    assert.equal(await ns.get("m"), '{"v":1}', "the value is its JSON text, untagged");
    assert.deepEqual((await ns.getWithMetadata("m")).metadata, { m: 1 });
    assert.deepEqual(
      [...new Uint8Array(await ns.get("b", "arrayBuffer"))],
      [0, 7, 0, 255],
      "a zero byte, then the bytes",
    );
    assert.deepEqual([...(await store.get("b"))], [7, 0, 255]);
    assert.deepEqual(await polystore(ns).get("m"), { v: 1 });
  });

  it("increment keeps KV's expiration exactly", async () => {
    const { ns } = namespace();
    const store = kv(ns);
    await store.increment("n", 1, { expires: 120 });
    const first = (await ns.list()).keys[0].expiration;
    for (let i = 0; i < 3; i++) await store.increment("n");
    assert.equal(await store.get("n"), 4);
    assert.equal((await ns.list()).keys[0].expiration, first);
  });

  it("refuses a value JSON cannot hold and keeps the old one", async () => {
    const { ns } = namespace();
    const store = kv(ns);
    await store.set("k", 1);
    await assert.rejects(store.set("k", Symbol("no")), { name: "TypeError", message: /key "k"/ });
    assert.equal(await store.get("k"), 1);
  });
});

// The shared conformance suite, prefixed and unprefixed, each store on a fresh
// namespace; KV refuses expiries under 60 s, so no 10 ms expiry tests.
run({ name: "polykv kv(KVNamespace)", make: (options) => kv(namespace().ns, options) });

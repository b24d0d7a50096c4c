// LEVEL: a real `level` database (classic-level on disk) in a temp folder. What is
// specific to this backend: polystore's on-disk envelope, read both ways, prefix
// range scans, expiry hidden at once, prune, and a database opened with another
// default encoding.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import polystore from "polystore";
import kv from "../index.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const folder = mkdtempSync(join(tmpdir(), "polykv-level-"));
let count = 0;
const openDb = (options) => new Level(join(folder, `db${count++}`), options);

after(() => rmSync(folder, { recursive: true, force: true }));

describe("level driver", () => {
  let db;
  let store;
  before(() => {
    db = openDb();
    store = kv(db);
  });
  after(() => store.close());

  it("is recognised as LEVEL and round-trips values", async () => {
    assert.equal(store.type, "LEVEL");
    await store.set("a", { nested: [1, "two", null, true] });
    await store.set("zero", 0);
    await store.set("empty", "");
    assert.deepEqual(await store.get("a"), { nested: [1, "two", null, true] });
    assert.equal(await store.get("zero"), 0);
    assert.equal(await store.get("empty"), "");
    assert.equal(await store.get("missing"), null);
    assert.equal(await store.has("zero"), true);
    assert.equal(await store.del("zero"), "zero");
    assert.equal(await store.has("zero"), false);
  });

  it("stores polystore's envelope as JSON text, and polystore reads it", async () => {
    await store.set("shared:mine", { from: "polykv" }, { expires: "1h" });
    const raw = JSON.parse(await db.get("shared:mine", { valueEncoding: "utf8" }));
    assert.deepEqual(Object.keys(raw), ["expires", "value"]);
    assert.deepEqual(raw.value, { from: "polykv" });
    assert.ok(raw.expires > Date.now() + 3500_000 && raw.expires <= Date.now() + 3600_000);
    const theirs = polystore(db);
    assert.deepEqual(await theirs.get("shared:mine"), { from: "polykv" });
  });

  it("reads what polystore wrote, including its expiry", async () => {
    const theirs = polystore(db).prefix("theirs:");
    await theirs.set("forever", [1, 2]);
    await theirs.set("brief", "x", { expires: 0.05 });
    const ours = store.prefix("theirs:");
    assert.deepEqual(await ours.get("forever"), [1, 2]);
    assert.equal(await ours.get("brief"), "x");
    await sleep(80);
    assert.equal(await ours.get("brief"), null);
    assert.deepEqual(await ours.keys(), ["forever"]);
  });

  it("stores bytes as bytes after a zero-byte header with the deadline, and prunes them when expired", async () => {
    const bytes = Buffer.from([0, 0xff, 0x7b, 0, 0xc3]);
    await store.set("bin:forever", bytes);
    await store.set("bin:brief", bytes, { expires: 1 });
    const raw = await db.get("bin:forever", { valueEncoding: "buffer" });
    assert.ok(raw.equals(Buffer.concat([Buffer.from('\0{"expires":null}\0'), bytes])), raw.toString("hex"));
    const read = await store.get("bin:forever");
    assert.ok(read instanceof Uint8Array && Buffer.from(read).equals(bytes));
    assert.deepEqual(await store.prefix("bin:").keys(), ["brief", "forever"]);
    await sleep(1100);
    assert.deepEqual(await store.prefix("bin:").keys(), ["forever"]);
    await store.prune();
    assert.equal(await db.get("bin:brief", { valueEncoding: "buffer" }), undefined, "pruned from disk");
    // A text record written over a binary one is polystore's envelope again.
    await store.set("bin:forever", "text");
    assert.equal(await polystore(db).get("bin:forever"), "text");
  });

  it("getMany is level's own; setMany and delMany are one batch", async () => {
    const calls = [];
    const spied = new Proxy(db, {
      get(target, name) {
        const value = Reflect.get(target, name, target);
        if (typeof value !== "function") return value;
        return (...args) => (calls.push(name), value.apply(target, args));
      },
    });
    const many = kv(spied, { prefix: "many:" });
    calls.length = 0;
    await many.setMany([
      ["a", 1],
      ["b", Buffer.from([7])],
      ["c", 3],
      ["c", null],
    ]);
    assert.deepEqual(calls, ["batch"]);
    calls.length = 0;
    const [a, b, c, d] = await many.getMany(["a", "b", "c", "missing"]);
    assert.deepEqual(calls, ["getMany"]);
    assert.deepEqual([a, [...b], c, d], [1, [7], null, null]);
    calls.length = 0;
    await many.delMany(["a", "b"]);
    assert.deepEqual(calls, ["batch"]);
    assert.deepEqual(await many.keys(), []);
  });

  it("hides an expired record at once and prune() deletes it from disk", async () => {
    const sub = store.prefix("exp:");
    await sub.set("short", 1, { expires: 0.05 });
    await sub.set("long", 2, { expires: 60 });
    assert.equal(await sub.get("short"), 1);
    await sleep(80);
    assert.equal(await sub.get("short"), null);
    assert.equal(await sub.has("short"), false);
    assert.deepEqual(await sub.entries(), [["long", 2]]);
    assert.notEqual(await db.get("exp:short", { valueEncoding: "utf8" }), undefined, "still on disk before prune");
    await sub.prune();
    assert.equal(await db.get("exp:short", { valueEncoding: "utf8" }), undefined);
    assert.equal(await sub.get("long"), 2);
  });

  it("lists exactly the keys under a prefix, including non-ASCII ones, in key order", async () => {
    const sub = store.prefix("range:");
    await Promise.all(["a", "a:1", "a:2", "a;", "b", "é", "😀", "a😀"].map((key, i) => sub.set(key, i)));
    await db.put("range;", "not under the prefix", { valueEncoding: "utf8" });
    await db.put("rangf", "not under the prefix", { valueEncoding: "utf8" });
    assert.deepEqual(await sub.prefix("a:").keys(), ["1", "2"]);
    assert.deepEqual(await sub.keys(), ["a", "a:1", "a:2", "a;", "a😀", "b", "é", "😀"]);
    assert.deepEqual(await sub.prefix("😀").entries(), [["", 6]]);
    const seen = [];
    for await (const [key] of sub.prefix("a")) seen.push(key);
    assert.deepEqual(seen, ["", ":1", ":2", ";", "😀"]);
  });

  it("clear() under a prefix removes only that prefix, in batches", async () => {
    const sub = store.prefix("bulk:");
    await Promise.all(Array.from({ length: 600 }, (_, i) => sub.set(`k${i}`, i)));
    await store.set("bulkier", "stays");
    assert.equal((await sub.keys()).length, 600);
    await sub.clear();
    assert.deepEqual(await sub.keys(), []);
    assert.equal(await store.get("bulkier"), "stays");
  });

  it("refuses a value JSON cannot hold, naming the key, and keeps the old value", async () => {
    await store.set("keep", "old");
    await assert.rejects(
      store.set("keep", () => 1),
      { name: "TypeError", message: /key "keep".*function/ },
    );
    await assert.rejects(store.set("keep", { big: 10n }), { name: "TypeError", message: /BigInt/ });
    assert.equal(await store.get("keep"), "old");
  });

  it("leaves a record that is not an envelope alone: missing to get, untouched by prune", async () => {
    await db.put("foreign", "plain text", { valueEncoding: "utf8" });
    assert.equal(await store.get("foreign"), null);
    await store.prune();
    assert.equal(await db.get("foreign", { valueEncoding: "utf8" }), "plain text");
  });
});

describe("level driver over a database opened with other encodings", () => {
  it("writes the same text whatever the database's default value encoding", async () => {
    const db = openDb({ valueEncoding: "json" });
    const store = kv(db);
    await store.set("k", { a: 1 });
    // The user's own json-encoded reads see the envelope object.
    assert.deepEqual(await db.get("k"), { expires: null, value: { a: 1 } });
    await db.put("theirs", { expires: null, value: "hello" });
    assert.equal(await store.get("theirs"), "hello");
    await store.close();
    assert.equal(db.status, "closed");
  });

  it("works over a sublevel", async () => {
    const db = openDb();
    const sub = db.sublevel("cache");
    const store = kv(sub);
    assert.equal(store.type, "LEVEL");
    await store.set("x", 1);
    assert.deepEqual(await store.entries(), [["x", 1]]);
    assert.deepEqual(await db.keys().all(), ["!cache!x"]);
    await db.close();
  });
});

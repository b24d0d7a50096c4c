// SQLite-specific behaviour (the shared suite covers the API): polystore's table,
// interop with polystore over better-sqlite3 in both directions, URL forms and the
// zero-config default, the user's own database object, prefix scans that are not
// LIKE, paging, corrupt files.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import polystore from "polystore";
import kv from "../index.mjs";

const root = mkdtempSync(join(tmpdir(), "polykv-sqlite-"));
after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const fresh = () => join(root, `db${count++}.db`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const INDEX = new URL("../index.mjs", import.meta.url).href;

function open(file) {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  return db;
}

describe("SQLite: the table is polystore's", () => {
  it("creates kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER) with an expires_at index, in WAL mode", async () => {
    const file = fresh();
    const store = kv(`sqlite://${file}`);
    assert.equal(store.type, "SQLITE");
    await store.set("a", { n: 1 }, { expires: 60 });
    await store.close();
    const db = new Database(file, { readonly: true });
    const columns = db
      .prepare("PRAGMA table_info(kv)")
      .all()
      .map((c) => [c.name, c.type, c.notnull, c.pk]);
    assert.deepEqual(columns, [
      ["id", "TEXT", 0, 1],
      ["value", "TEXT", 1, 0],
      ["expires_at", "INTEGER", 0, 0],
    ]);
    const indexes = db
      .prepare("PRAGMA index_list(kv)")
      .all()
      .map((i) => i.name);
    assert.ok(indexes.includes("idx_kv_expires_at"), indexes.join());
    assert.equal(db.pragma("journal_mode", { simple: true }), "wal");
    // Users can query it with SQL: the value is JSON text, expires_at Unix ms.
    const row = db.prepare("SELECT value, expires_at, typeof(expires_at) AS t FROM kv WHERE id = 'a'").get();
    assert.equal(row.value, '{"n":1}');
    assert.equal(row.t, "integer");
    assert.ok(Math.abs(row.expires_at - (Date.now() + 60_000)) < 5_000, String(row.expires_at));
    db.close();
  });

  it("polykv reads what polystore wrote through better-sqlite3, expiry included", async () => {
    const file = fresh();
    const db = open(file);
    const old = polystore(db);
    await old.set("user:1", { name: "Ada", tags: ["x"] });
    await old.set("user:2", "two", { expires: 0.05 });
    await old.set("other", 3);
    const store = kv(`sqlite://${file}`);
    assert.deepEqual(await store.get("user:1"), { name: "Ada", tags: ["x"] });
    assert.equal(await store.get("user:2"), "two");
    assert.deepEqual(await store.prefix("user:").keys(), ["1", "2"]);
    await sleep(80);
    assert.equal(await store.get("user:2"), null);
    assert.equal(await store.has("user:2"), false);
    assert.deepEqual(await store.all(), { "user:1": { name: "Ada", tags: ["x"] }, other: 3 });
    await store.close();
    db.close();
  });

  it("polystore reads what polykv wrote, expiry included", async () => {
    const file = fresh();
    const store = kv(`sqlite://${file}`);
    await store.set("a:1", { deep: { list: [1, "2", null, true] } });
    await store.set("a:2", "soon gone", { expires: 0.05 });
    await store.set("b", 0);
    await store.close();
    const db = open(file);
    const old = polystore(db);
    assert.deepEqual(await old.get("a:1"), { deep: { list: [1, "2", null, true] } });
    assert.equal(await old.get("a:2"), "soon gone");
    assert.equal(await old.get("b"), 0);
    assert.deepEqual((await old.prefix("a:").keys()).sort(), ["1", "2"]);
    await sleep(80);
    assert.equal(await old.get("a:2"), null);
    db.close();
  });
});

describe("SQLite: URLs and the zero-config default", () => {
  it("sqlite:relative/path.db is relative to the working directory, folders created", async () => {
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const store = kv("sqlite:rel/deeper/store.db");
      await store.set("k", 1);
      await store.close();
    } finally {
      process.chdir(cwd);
    }
    assert.ok(existsSync(join(root, "rel/deeper/store.db")));
  });

  it("sqlite::memory: stores are private to each kv()", async () => {
    const one = kv("sqlite::memory:");
    const two = kv("sqlite::memory:");
    await one.set("k", 1);
    assert.equal(await two.get("k"), null);
    assert.equal(await one.get("k"), 1);
  });

  it('kv("sqlite:") persists in ./.polykv/store.db, or in $POLYKV_SQLITE_PATH', () => {
    const dir = mkdtempSync(join(root, "default-"));
    const script = `import kv from ${JSON.stringify(INDEX)};
      const store = kv("sqlite:");
      const seen = await store.get("visits");
      await store.set("visits", (seen ?? 0) + 1);
      console.log(await store.get("visits"));`;
    const run = (env) =>
      spawnSync(process.execPath, ["--input-type=module", "-e", script], {
        cwd: dir,
        env: { ...process.env, ...env },
        encoding: "utf8",
      });
    const env = { POLYKV_SQLITE_PATH: "" };
    assert.equal(run(env).stdout.trim(), "1");
    assert.equal(run(env).stdout.trim(), "2", "the second process sees the first one's data");
    assert.ok(existsSync(join(dir, ".polykv", "store.db")));
    const custom = join(dir, "custom", "place.db");
    const result = run({ POLYKV_SQLITE_PATH: custom });
    assert.equal(result.stdout.trim(), "1", result.stderr);
    assert.ok(existsSync(custom));
  });

  it("a file that is not a SQLite database is a clear error naming the path, and is left alone", () => {
    const file = join(root, "notes.db");
    const text = "These are my notes, not a database. ".repeat(20);
    writeFileSync(file, text);
    assert.throws(
      () => kv(`sqlite://${file}`),
      (error) =>
        error.message.startsWith("[polykv] [SQLITE]") &&
        error.message.includes(file) &&
        /not a database/.test(error.message),
    );
    assert.equal(readFileSync(file, "utf8"), text);
  });

  it("calls after close() fail clearly", async () => {
    const store = kv(`sqlite://${fresh()}`);
    await store.close();
    await assert.rejects(store.get("a"), /\[polykv\] \[SQLITE\] the store is closed/);
  });
});

describe("SQLite: prefixes, paging and bad values", () => {
  for (const [label, make] of [
    ["native", () => kv(`sqlite://${fresh()}`)],
    ["better-sqlite3 object", () => kv(open(fresh()))],
  ]) {
    it(`${label}: % and _ in a prefix are plain characters (no LIKE)`, async () => {
      const store = make();
      for (const key of ["a_1", "ab1", "A_2", "a%x", "a%", "b"]) await store.set(key, key);
      assert.deepEqual(await store.prefix("a_").keys(), ["1"]);
      assert.deepEqual(await store.prefix("a%").keys(), ["", "x"]);
      await store.prefix("a_").clear();
      assert.deepEqual((await store.keys()).sort(), ["A_2", "a%", "a%x", "ab1", "b"]);
    });

    it(`${label}: iteration pages through 2 600 entries in key order`, async () => {
      const store = make();
      const keys = Array.from({ length: 2600 }, (_, i) => `p:${String(i).padStart(5, "0")}`);
      for (const key of keys) await store.set(key, { key });
      await store.set("q", 1);
      const seen = [];
      for await (const [key, value] of store.prefix("p:")) {
        assert.equal(value.key, `p:${key}`);
        seen.push(`p:${key}`);
      }
      assert.deepEqual(seen, keys);
      assert.equal((await store.prefix("p:").values()).length, 2600);
      assert.equal((await store.keys()).length, 2601);
    });

    it(`${label}: a value JSON cannot hold is a TypeError naming the key, and nothing is stored`, async () => {
      const store = make();
      await assert.rejects(store.set("big", { n: 10n }), (e) => e instanceof TypeError && e.message.includes('"big"'));
      const cyclic = {};
      cyclic.self = cyclic;
      await assert.rejects(store.set("loop", cyclic), TypeError);
      assert.equal(await store.has("big"), false);
      assert.equal(await store.has("loop"), false);
    });
  }

  it("node:sqlite DatabaseSync works too where this Node has it", async (t) => {
    let DatabaseSync;
    try {
      ({ DatabaseSync } = await import("node:sqlite"));
    } catch {
      t.skip(`node:sqlite is not in Node ${process.version}`);
      return;
    }
    const store = kv(new DatabaseSync(":memory:"));
    assert.equal(store.type, "SQLITE");
    await store.set("a", { x: 1 }, { expires: 60 });
    assert.deepEqual(await store.get("a"), { x: 1 });
    assert.deepEqual(await store.keys(), ["a"]);
  });
});

describe("SQLite: bytes, metadata, deadlines and group commit", () => {
  for (const [label, make] of [
    ["native", (file) => kv(`sqlite://${file}`)],
    ["better-sqlite3 object", (file) => kv(open(file))],
  ]) {
    it(`${label}: bytes are a BLOB and JSON stays TEXT, so polystore reads every JSON row`, async () => {
      const file = fresh();
      const store = make(file);
      await store.set("b", Buffer.from([0, 255, 1]));
      await store.set("j", { a: 1 });
      await store.set("m", "x", { metadata: { t: 1 } });
      const db = open(file);
      const rows = db.prepare("SELECT id, typeof(value) AS kind, value FROM kv ORDER BY id").all();
      assert.deepEqual(
        rows.map((row) => [row.id, row.kind]),
        [
          ["b", "blob"],
          ["j", "text"],
          ["m", "text"],
        ],
      );
      assert.deepEqual([...rows[0].value], [0, 255, 1]);
      assert.equal(rows[1].value, '{"a":1}', "a plain value is polystore's JSON text");
      assert.deepEqual(JSON.parse(rows[2].value), { $polykv: 1, value: "x", metadata: { t: 1 } });
      assert.deepEqual(await polystore(db).get("j"), { a: 1 });
      const bytes = await store.get("b");
      assert.ok(bytes instanceof Uint8Array);
      assert.deepEqual([...bytes], [0, 255, 1]);
      db.close();
    });

    it(`${label}: rows polystore wrote read with their deadlines in getWithMetadata and list()`, async () => {
      const file = fresh();
      const db = open(file);
      const before = Date.now();
      await polystore(db).set("p:ttl", { v: 1 }, { expires: 60 });
      await polystore(db).set("p:plain", 2);
      const store = make(file);
      const read = await store.getWithMetadata("p:ttl");
      assert.deepEqual(read.value, { v: 1 });
      assert.ok(Math.abs(read.expires - (before + 60_000)) < 5_000, String(read.expires));
      const { keys } = await store.prefix("p:").list();
      assert.deepEqual(
        keys.map((key) => key.name),
        ["plain", "ttl"],
      );
      assert.equal(keys[0].expiration, undefined);
      assert.ok(Math.abs(keys[1].expiration - (before + 60_000) / 1000) <= 5);
      db.close();
    });
  }

  // Every commit appends at least one page to the WAL; one transaction of 64 small
  // rows appends a handful.
  const walFrames = (file) => (existsSync(`${file}-wal`) ? statSync(`${file}-wal`).size : 0) / (4096 + 24);

  it("native: the writes of one tick commit as one transaction", async () => {
    const file = fresh();
    const store = kv(`sqlite://${file}`);
    await store.set("warm", 1);
    const start = walFrames(file);
    await Promise.all(Array.from({ length: 64 }, (_, i) => store.set(`k${i}`, { i })));
    const grouped = walFrames(file) - start;
    assert.ok(grouped <= 8, `64 writes in one tick took ${grouped} WAL frames`);
    for (let i = 0; i < 64; i++) await store.del(`k${i}`);
    assert.ok(walFrames(file) - start - grouped >= 64, "64 awaited writes are 64 commits");
    assert.deepEqual(await store.keys(), ["warm"]);
    await store.close();
  });

  it("native: a write that fails in a group commit fails alone, the others are stored", async () => {
    const file = fresh();
    const store = kv(`sqlite://${file}`);
    await store.set("warm", 1);
    const db = open(file);
    db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON kv WHEN NEW.id = 'bad'
             BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END`);
    const results = await Promise.allSettled([
      store.set("a", 1),
      store.set("bad", 2),
      store.del("warm"),
      store.set("c", 3),
    ]);
    assert.deepEqual(
      results.map((result) => result.status),
      ["fulfilled", "rejected", "fulfilled", "fulfilled"],
    );
    assert.equal(results[1].reason.code, "ERR_POLYKV_BACKEND");
    assert.match(results[1].reason.message, /^\[polykv\] \[SQLITE\] .*refused by a trigger/);
    assert.deepEqual(await store.keys(), ["a", "c"]);
    // setMany is one transaction: the same failure stores none of it.
    await assert.rejects(
      store.setMany([
        ["d", 4],
        ["bad", 5],
      ]),
      /refused by a trigger/,
    );
    assert.equal(await store.has("d"), false);
    await store.close();
    db.close();
  });

  it("native: a read made in the same tick as writes sees them", async () => {
    const store = kv("sqlite::memory:");
    const writes = [store.set("a", 1), store.set("b", 2)];
    const [a, many] = await Promise.all([store.get("a"), store.getMany(["a", "b"]), ...writes]);
    assert.equal(a, 1);
    assert.deepEqual(many, [1, 2]);
  });
});

describe("SQLite: the expires_at index", () => {
  it("is partial on a table polykv creates, so a record that never expires costs no index write", async () => {
    for (const make of [(file) => kv(`sqlite://${file}`), (file) => kv(open(file))]) {
      const file = fresh();
      const store = make(file);
      await store.set("forever", 1);
      await store.set("soon", 2, { expires: 0.01 });
      await sleep(30);
      await store.prune();
      const db = open(file);
      const { sql } = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'idx_kv_expires_at'").get();
      assert.match(sql, /WHERE expires_at IS NOT NULL$/);
      const plan = db.prepare("EXPLAIN QUERY PLAN DELETE FROM kv WHERE expires_at <= ?").all(0);
      assert.ok(
        plan.some((step) => step.detail.includes("idx_kv_expires_at")),
        JSON.stringify(plan),
      );
      assert.deepEqual(
        db
          .prepare("SELECT id FROM kv")
          .all()
          .map((row) => row.id),
        ["forever"],
      );
      db.close();
      await store.close();
    }
  });
});

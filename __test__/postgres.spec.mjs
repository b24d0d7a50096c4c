// POSTGRES over the user's `pg` Client or Pool: what the conformance suite cannot see.
// Needs POLYKV_TEST_POSTGRES_URL (.ci/services.sh starts a server whose default
// collation is ICU, not "C"). Each test works in its own schema, dropped at the end.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import pg from "pg";
import polystore from "polystore";
import kv from "../index.mjs";
import { serviceUrl } from "./fixtures/service.mjs";

const URL = serviceUrl("POLYKV_TEST_POSTGRES_URL", "postgres (pg client)");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Code-point order (what COLLATE "C" gives on UTF-8), unlike JS's UTF-16 sort.
const byCodePoint = (a, b) => {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
};

if (URL) {
  describe("postgres (pg client)", () => {
    const schemas = [];
    let admin;
    // Every client a test makes is ended at the end (again), so a failing test
    // cannot leave a connection open that keeps the test process alive.
    const opened = [];
    const track = (client) => (opened.push(client), client);

    before(async () => {
      admin = new pg.Client(URL);
      await admin.connect();
    });
    after(async () => {
      for (const client of opened.splice(0)) await client.end().catch(() => {});
      for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin?.end();
    });

    // A fresh schema; clients made for it see only its `kv` table.
    async function schema() {
      const name = `polykv_t_${randomBytes(5).toString("hex")}`;
      await admin.query(`CREATE SCHEMA ${name}`);
      schemas.push(name);
      return name;
    }
    const options = (name) => ({ connectionString: URL, options: `-c search_path=${name}` });

    // A pg Client that records every query it is asked to run.
    class SpyClient extends pg.Client {
      seen = [];
      connects = 0;
      query(...args) {
        this.seen.push(args);
        return super.query(...args);
      }
      connect(...args) {
        this.connects++;
        return super.connect(...args);
      }
    }

    // The plan Postgres picks for a query polykv sent (sequential scans discouraged,
    // so a usable index shows up even on a tiny table).
    async function plan(name, [text, values]) {
      const sql = typeof text === "string" ? text : text.text;
      const client = track(new pg.Client(options(name)));
      await client.connect();
      try {
        await client.query("SET enable_seqscan = off");
        const { rows } = await client.query(`EXPLAIN ${sql}`, values ?? text.values);
        return rows.map((row) => row["QUERY PLAN"]).join("\n");
      } finally {
        await client.end();
      }
    }

    async function defaultIsC() {
      const { rows } = await admin.query("SELECT 'a' < 'B' AS icu");
      return !rows[0].icu; // in "C", 'B' (0x42) sorts before 'a' (0x61)
    }

    it("creates polystore's table with a C-collated primary key; a prefix listing is a range scan on it", async () => {
      const name = await schema();
      const client = track(new SpyClient(options(name)));
      const store = kv(client, { prefix: "a:" });
      await store.set("k", 1);
      const { rows: columns } = await admin.query(
        `SELECT column_name, data_type, is_nullable, collation_name FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'kv' ORDER BY ordinal_position`,
        [name],
      );
      assert.deepEqual(
        columns.map((c) => [c.column_name, c.data_type, c.is_nullable]),
        [
          ["id", "text", "NO"],
          ["value", "text", "NO"],
          ["expires_at", "timestamp with time zone", "YES"],
          ["bytes", "bytea", "YES"],
        ],
      );
      assert.equal(columns[0].collation_name, "C");
      const { rows: indexes } = await admin.query("SELECT indexname FROM pg_indexes WHERE schemaname = $1", [name]);
      assert.deepEqual(indexes.map((i) => i.indexname).sort(), ["idx_kv_expires_at", "kv_pkey"]);

      client.seen.length = 0;
      assert.deepEqual(await store.keys(), ["k"]);
      const listing = client.seen.find(([text]) => typeof text === "string" && /SELECT id FROM kv/.test(text));
      assert.ok(listing, "keys() ran a SELECT on kv");
      assert.doesNotMatch(listing[0], /LIKE/);
      assert.deepEqual(listing[1], ["a:", "a;"]);
      const explained = await plan(name, listing);
      assert.match(explained, /Index.*kv_pkey/, explained);
      await store.close();
    });

    it('on a table polystore created, adds an index on id COLLATE "C" when the default collation is not C, and uses it', async () => {
      const name = await schema();
      const theirs = polystore(track(new pg.Client(options(name))));
      await theirs.set("a:k", 1);
      const isC = await defaultIsC();
      if (isC) console.log("# the database default collation is C: no extra index is needed");

      const client = track(new SpyClient(options(name)));
      const store = kv(client, { prefix: "a:" });
      assert.deepEqual(await store.keys(), ["k"]);
      const { rows: indexes } = await admin.query("SELECT indexname FROM pg_indexes WHERE schemaname = $1", [name]);
      assert.equal(
        indexes.some((i) => i.indexname === "idx_kv_id_c"),
        !isC,
      );
      if (!isC) {
        const listing = client.seen.find(([text]) => typeof text === "string" && /SELECT id FROM kv/.test(text));
        const explained = await plan(name, listing);
        assert.match(explained, /Index.*idx_kv_id_c/, explained);
      }
      await store.close();
      await theirs.close();
    });

    for (const made of ["polykv", "polystore"]) {
      it(`prefix listing is exact in code-point order whatever the collation (table made by ${made})`, async () => {
        const name = await schema();
        if (made === "polystore") {
          const theirs = polystore(track(new pg.Client(options(name))));
          await theirs.set("setup", 0);
          await theirs.del("setup");
          await theirs.close();
        }
        const root = kv(track(new pg.Client(options(name))));
        const inside = ["a:", "a:b", "a:B", "a:é", "a:\u{D7FF}", "a:\u{E000}", "a:\u{1F600}", "a:\u{10FFFF}", "a:a:a"];
        const outside = ["a;", "a9", "A:b", "a :b", "ä:b", "a", "b", "A:", "a\u00a0:b", "á:b", "a-:b", ""];
        for (const key of [...inside, ...outside]) await root.set(key, key);
        const store = root.prefix("a:");
        const expected = inside.map((key) => key.slice(2)).sort(byCodePoint);
        assert.deepEqual((await store.keys()).sort(byCodePoint), expected);
        assert.deepEqual((await store.values()).sort(byCodePoint), inside.slice().sort(byCodePoint));
        const iterated = [];
        for await (const [key] of store) iterated.push(key);
        assert.deepEqual(iterated, expected, "iteration is in code-point order");
        await store.clear();
        assert.deepEqual((await root.keys()).sort(byCodePoint), outside.slice().sort(byCodePoint));
        await root.close();
      });
    }

    it("keys with quotes, %, _, \\ and SQL are plain strings; prefixes with % and _ are not wildcards", async () => {
      const name = await schema();
      const root = kv(track(new pg.Client(options(name))));
      const odd = ["it's", '"q"', "100%", "a_b", "back\\slash", "'; DROP TABLE kv; --", "$1", "%", "_", "\\", "\\%"];
      for (const key of odd) await root.set(key, { key });
      for (const key of odd) {
        assert.deepEqual(await root.get(key), { key }, key);
        assert.equal(await root.has(key), true, key);
      }
      const { rows } = await admin.query(`SELECT id, value FROM ${name}.kv`);
      assert.deepEqual(rows.map((r) => r.id).sort(), odd.slice().sort());
      assert.deepEqual(JSON.parse(rows.find((r) => r.id === "it's").value), { key: "it's" });

      for (const key of ["p%1", "p%%2", "pX1", "p1", "p_1", "pY_1", "p\\1", "p\\\\2", "pZ1"]) await root.set(key, key);
      assert.deepEqual((await root.prefix("p%").keys()).sort(), ["%2", "1"]);
      assert.deepEqual((await root.prefix("p_").keys()).sort(), ["1"]);
      assert.deepEqual((await root.prefix("p\\").keys()).sort(), ["1", "\\2"]);
      await root.prefix("p%").clear();
      await root.prefix("p_").clear();
      assert.deepEqual((await root.prefix("p").keys()).sort(), ["1", "X1", "Y_1", "Z1", "\\1", "\\\\2"]);
      for (const key of odd) await root.del(key);
      assert.equal(await root.has("it's"), false);
      assert.deepEqual(
        (await admin.query(`SELECT count(*)::int AS n FROM ${name}.kv WHERE id NOT LIKE 'p%'`)).rows[0].n,
        0,
      );
      await root.close();
    });

    it("a key or prefix with NUL is a clear Error and nothing changes", async () => {
      const name = await schema();
      const root = kv(track(new pg.Client(options(name))));
      await root.set("a", 1);
      await root.set("a\u0001", 2);
      const snapshot = async () => (await admin.query(`SELECT id, value, expires_at FROM ${name}.kv ORDER BY id`)).rows;
      const before = await snapshot();
      const nul = (error) => error instanceof Error && /NUL/.test(error.message) && /Postgres/.test(error.message);
      await assert.rejects(() => root.set("a\0", 3), nul);
      await assert.rejects(() => root.set("a\0b", 3, { expires: 10 }), nul);
      await assert.rejects(() => root.get("a\0"), nul);
      await assert.rejects(() => root.has("a\0"), nul);
      await assert.rejects(() => root.del("a\0"), nul);
      const nulPrefix = root.prefix("a\0");
      await assert.rejects(() => nulPrefix.add(4), nul);
      await assert.rejects(() => nulPrefix.keys(), nul);
      await assert.rejects(() => nulPrefix.entries(), nul);
      await assert.rejects(() => nulPrefix.clear(), nul);
      await assert.rejects(async () => {
        for await (const entry of nulPrefix) assert.fail(`yielded ${entry}`);
      }, nul);
      assert.deepEqual(await snapshot(), before);
      // A NUL inside a value is fine: JSON writes it as \u0000.
      await root.set("b", "x\0y");
      assert.equal(await root.get("b"), "x\0y");
      await root.close();
    });

    it("polystore and polykv read each other's rows, values and expiry", async () => {
      const name = await schema();
      // One after the other: polystore's connect() fails if another client creates
      // the table at the same moment (polykv's retries once).
      const theirs = polystore(track(new pg.Client(options(name))), { prefix: "s:" });
      await theirs.set("a", { deep: [1, { two: 2 }] });
      const ours = kv(track(new pg.Client(options(name))), { prefix: "s:" });
      await theirs.set("b", "long", { expires: "1h" });
      await theirs.set("c", 3, { expires: 1 });
      assert.deepEqual(await ours.get("a"), { deep: [1, { two: 2 }] });
      assert.equal(await ours.get("b"), "long");
      assert.deepEqual((await ours.keys()).sort(), ["a", "b", "c"]);

      await ours.set("d", [true, null, "x"]);
      await ours.set("e", "soon", { expires: 0.3 });
      assert.deepEqual(await theirs.get("d"), [true, null, "x"]);
      assert.equal(await theirs.get("e"), "soon");
      assert.deepEqual((await theirs.keys()).sort(), ["a", "b", "c", "d", "e"]);
      const { rows } = await admin.query(`SELECT value FROM ${name}.kv WHERE id = 's:d'`);
      assert.equal(rows[0].value, JSON.stringify([true, null, "x"]), "the value column is the JSON text");

      await sleep(1100);
      for (const store of [ours, theirs]) {
        assert.equal(await store.get("c"), null);
        assert.equal(await store.get("e"), null);
        assert.deepEqual((await store.keys()).sort(), ["a", "b", "d"]);
      }
      await ours.prune();
      const { rows: left } = await admin.query(`SELECT id FROM ${name}.kv ORDER BY id`);
      assert.deepEqual(
        left.map((r) => r.id),
        ["s:a", "s:b", "s:d"],
      );
      await ours.close();
      await theirs.close();
    });

    it("expiry is stored to the millisecond (polystore would round nothing, but sends the app's clock)", async () => {
      const name = await schema();
      const store = kv(track(new pg.Client(options(name))));
      await store.set("k", 1, { expires: 0.25 });
      const { rows } = await admin.query(
        `SELECT extract(epoch FROM expires_at - now()) * 1000 AS ms FROM ${name}.kv WHERE id = 'k'`,
      );
      assert.ok(rows[0].ms > 150 && rows[0].ms <= 250, `expires in ${rows[0].ms} ms`);
      await store.close();
    });

    it("iteration pages through a large prefix in code-point order", async () => {
      const name = await schema();
      const root = kv(track(new pg.Client(options(name))));
      const keys = Array.from({ length: 1234 }, (_, i) => `${i % 7 ? "x" : "X"}${i}${i % 5 ? "" : "é"}`);
      await root.has("x"); // polykv creates the table on its first call
      await admin.query(
        `INSERT INTO ${name}.kv (id, value) SELECT 'big:' || k, '"' || k || '"' FROM unnest($1::text[]) AS k`,
        [keys],
      );
      await root.set("bif", 0);
      await root.set("bih", 0);
      const seen = [];
      for await (const [key, value] of root.prefix("big:")) {
        assert.equal(value, key);
        seen.push(key);
      }
      assert.deepEqual(seen, keys.slice().sort(byCodePoint));
      await root.close();
    });

    it("keeps binary values in a bytea column beside the JSON; a table polystore made gets the column", async () => {
      const name = await schema();
      const theirs = polystore(track(new pg.Client(options(name))));
      await theirs.set("old", { made: "by polystore" });
      const store = kv(track(new pg.Client(options(name))));
      const bytes = Buffer.from([0, 255, 0xc3, 1]);
      await store.set("bin", bytes);
      await store.set("json", [1]);
      const { rows } = await admin.query(`SELECT id, value, bytes FROM ${name}.kv ORDER BY id`);
      const byId = Object.fromEntries(rows.map((row) => [row.id, row]));
      assert.ok(byId.bin.bytes.equals(bytes), "the bytes are in the bytea column as they are");
      assert.deepEqual(JSON.parse(byId.bin.value), { $polykv: 1, bytea: true }, "value holds JSON polystore can parse");
      assert.equal(byId.json.bytes, null);
      assert.equal(byId.json.value, "[1]");
      assert.equal(byId.old.bytes, null);
      assert.deepEqual(await store.get("old"), { made: "by polystore" });
      assert.deepEqual(await theirs.get("json"), [1], "polystore still reads polykv's JSON rows");
      assert.deepEqual(await theirs.get("bin"), { $polykv: 1, bytea: true });
      const read = await store.get("bin");
      assert.ok(read instanceof Uint8Array && Buffer.from(read).equals(bytes));
      // A JSON value over a binary one clears the bytes.
      await store.set("bin", "text now");
      assert.equal(await store.get("bin"), "text now");
      assert.equal((await admin.query(`SELECT bytes FROM ${name}.kv WHERE id = 'bin'`)).rows[0].bytes, null);
      await store.close();
      await theirs.close();
    });

    it("cas, increment, getAndDelete and the bulk methods are one statement each", async () => {
      const name = await schema();
      const client = track(new SpyClient(options(name)));
      const store = kv(client, { prefix: "s:" });
      await store.set("n", 1, { expires: 3600 });
      const statements = async (work) => {
        client.seen.length = 0;
        const result = await work();
        return { result, count: client.seen.length };
      };
      assert.deepEqual(await statements(() => store.increment("n", 2)), { result: 3, count: 1 });
      assert.deepEqual(await statements(() => store.increment("fresh", 2)), { result: 2, count: 1 });
      // cas: the read, then one conditional statement.
      assert.deepEqual(await statements(() => store.cas("n", 3, 4)), { result: true, count: 2 });
      assert.deepEqual(await statements(() => store.cas("n", 3, 5)), { result: false, count: 1 });
      assert.deepEqual(await statements(() => store.getAndDelete("n")), { result: 4, count: 1 });
      assert.deepEqual(
        await statements(() =>
          store.setMany([
            ["a", 1],
            ["b", 2],
            ["fresh", null],
          ]),
        ),
        { result: ["a", "b", "fresh"], count: 1 },
      );
      assert.deepEqual(await statements(() => store.getMany(["b", "x", "a"])), { result: [2, null, 1], count: 1 });
      assert.deepEqual(await statements(() => store.delMany(["a", "b"])), { result: ["a", "b"], count: 1 });
      assert.deepEqual(await store.getMany(["a", "b", "fresh"]), [null, null, null]);
      await store.close();
    });

    it("increment keeps the deadline to the millisecond and counts a number that has metadata", async () => {
      const name = await schema();
      const store = kv(track(new pg.Client(options(name))));
      await store.increment("w", 1, { expires: 60 });
      const { expires } = await store.getWithMetadata("w");
      const { rows } = await admin.query(
        `SELECT (extract(epoch FROM expires_at) * 1000)::float8 AS ms FROM ${name}.kv WHERE id = 'w'`,
      );
      assert.equal(expires, Math.round(rows[0].ms), "the deadline is the server's, in ms");
      for (let i = 0; i < 5; i++) await store.increment("w", 1, { expires: 3600 });
      assert.equal(await store.get("w"), 6);
      assert.equal((await store.getWithMetadata("w")).expires, expires);
      await store.set("m", 10, { metadata: { kind: "counter" } });
      assert.equal(await store.increment("m", 5), 15);
      assert.equal(await store.get("m"), 15);
      await store.set("bin", Buffer.from([1]));
      await assert.rejects(store.increment("bin"), { code: "ERR_POLYKV_VALUE" });
      await store.close();
    });

    it("connects an unconnected Client once for all its stores; close() ends it; a Pool works", async () => {
      const name = await schema();
      const client = track(new SpyClient(options(name)));
      const a = kv(client, { prefix: "a:" });
      const b = a.prefix("b:");
      const c = kv(client, { prefix: "c:" });
      await Promise.all([a.set("1", 1), b.set("2", 2), c.set("3", 3)]);
      assert.equal(client.connects, 1);
      assert.deepEqual((await a.keys()).sort(), ["1", "b:2"]);
      await a.close();
      await assert.rejects(() => client.query("SELECT 1"));

      const connected = track(new pg.Client(options(name)));
      await connected.connect();
      const d = kv(connected);
      assert.equal(await d.get("a:1"), 1);
      await d.close();

      const pool = track(new pg.Pool({ ...options(name), max: 3 }));
      const p = kv(pool, { prefix: "a:" });
      assert.equal(p.type, "POSTGRES");
      await Promise.all(Array.from({ length: 20 }, (_, i) => p.set(`p${i}`, i)));
      assert.equal((await p.keys()).length, 22); // 1, b:2 and p0…p19
      await p.close();
      assert.equal(pool.ending, true);
    });
  });
}

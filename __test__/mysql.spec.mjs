// MYSQL over the user's mysql2 or mariadb client: what the conformance suite cannot see.
// Needs POLYKV_TEST_MYSQL_URL (.ci/services.sh starts MariaDB with the compiled-in
// latin1 default character set, not utf8mb4). Each test works in a database of its
// own, dropped at the end.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import mysql from "mysql2";
import mysqlPromise from "mysql2/promise";
import mariadb from "mariadb";
import mariadbCallback from "mariadb/callback";
import kv from "../index.mjs";
import { serviceUrl } from "./fixtures/service.mjs";
import { mariadbOptions } from "./fixtures/server-rows.mjs";

const URL_ = serviceUrl("POLYKV_TEST_MYSQL_URL", "mysql (mysql2 and mariadb clients)");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
// Code-point order (what binary order of UTF-8 bytes is), unlike JS's UTF-16 sort.
const byCodePoint = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
const fails =
  (code, type = Error) =>
  (error) => {
    assert.ok(error instanceof type, `${error} is a ${type.name}`);
    assert.equal(error.code, code, error.message);
    return true;
  };

// Node 20 has no Array.fromAsync.
async function collect(iterable) {
  const list = [];
  for await (const item of iterable) list.push(item);
  return list;
}

// Ends a client of any of the four APIs (callback or promise, mysql2 or mariadb).
const end = (client) =>
  new Promise((resolve) => {
    const ended = client.end(() => resolve());
    if (ended?.then) ended.then(resolve, resolve);
  });

if (URL_) {
  describe("mysql (mysql2 and mariadb clients)", () => {
    const databases = [];
    const opened = [];
    let admin;
    const track = (client) => (opened.push(client), client);

    before(async () => {
      admin = await mysqlPromise.createConnection(URL_);
    });
    after(async () => {
      for (const client of opened.splice(0)) await end(client);
      for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin?.end();
    });

    // A fresh database; the URL of it.
    async function database() {
      const name = `polykv_t_${randomBytes(5).toString("hex")}`;
      await admin.query(`CREATE DATABASE ${name}`);
      databases.push(name);
      const url = new URL(URL_);
      url.pathname = `/${name}`;
      return { name, url: url.href };
    }

    // A mysql2 promise pool that records every statement it is asked to run: the
    // user's real pool, seen through an object whose own `execute` notes the call.
    function spy(pool) {
      const seen = [];
      const client = Object.create(pool);
      client.execute = (query, params) => {
        seen.push([typeof query === "string" ? query : query.sql, params]);
        return pool.execute(query, params);
      };
      return { client, seen };
    }

    it("creates a kv table with a binary primary key, utf8mb4 JSON text, an indexed BIGINT ms expiry and a BLOB for bytes", async () => {
      const { name, url } = await database();
      const store = kv(track(mysqlPromise.createPool(url)));
      assert.equal(store.type, "MYSQL");
      await store.set("k", { a: 1 });
      const [columns] = await admin.query(
        `SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, CHARACTER_SET_NAME AS charset,
           COLLATION_NAME AS collation FROM information_schema.COLUMNS
         WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'kv' ORDER BY ORDINAL_POSITION`,
        [name],
      );
      assert.deepEqual(
        // MariaDB and MySQL 5 write bigint(20), MySQL 8 bigint
        columns.map((c) => [c.name, c.type.replace(/^bigint\(20\)$/, "bigint"), c.nullable, c.charset, c.collation]),
        [
          ["id", "varbinary(3072)", "NO", null, null],
          ["value", "longtext", "NO", "utf8mb4", "utf8mb4_bin"],
          ["expires_at", "bigint", "YES", null, null],
          ["value_bytes", "longblob", "YES", null, null],
        ],
      );
      const [indexes] = await admin.query(
        "SELECT DISTINCT INDEX_NAME AS name, COLUMN_NAME AS col FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'kv'",
        [name],
      );
      assert.deepEqual(indexes.map((i) => `${i.name}:${i.col}`).sort(), ["PRIMARY:id", "idx_kv_expires_at:expires_at"]);
      const [rows] = await admin.query(`SELECT id, value, expires_at FROM ${name}.kv`);
      assert.deepEqual(rows, [{ id: Buffer.from("k"), value: '{"a":1}', expires_at: null }]);
    });

    it("a prefix listing is a range on the primary key (EXPLAIN), never LIKE, with the bounds bound", async () => {
      const { name, url } = await database();
      const pool = track(mysqlPromise.createPool(url));
      const { client, seen } = spy(pool);
      const root = kv(client);
      await root.has("x"); // creates the table
      // Enough rows outside the prefix that a full scan is the worse plan.
      await admin.query(`INSERT INTO ${name}.kv (id, value) VALUES ${Array(3000).fill("(?, '0')").join(",")}`, [
        ...Array.from({ length: 3000 }, (_, i) => `z${i}`),
      ]);
      await root.prefix("a:").set("1", 1);
      await root.prefix("a:").set("2", 2);
      await admin.query(`ANALYZE TABLE ${name}.kv`);

      const store = root.prefix("a:");
      const listings = [
        ["keys", () => store.keys()],
        ["entries", () => store.entries()],
        ["values", () => store.values()],
        ["iterate", async () => collect(store)],
        ["clear", () => store.clear()],
        ["prune", () => store.prune()],
      ];
      for (const [what, call] of listings) {
        seen.length = 0;
        await call();
        assert.equal(seen.length, 1, `${what}: one statement`);
        const [sql, params] = seen[0];
        assert.doesNotMatch(sql, /LIKE|a:/, what);
        assert.deepEqual(params, [Buffer.from("a:"), Buffer.from("a;")], what);
        const [plan] = await pool.execute(`EXPLAIN ${sql}`, params);
        assert.equal(plan.length, 1, what);
        // prune's own filter (expires_at <= now) may pick the expiry index instead: a range too.
        const keys = what === "prune" ? ["PRIMARY", "idx_kv_expires_at"] : ["PRIMARY"];
        assert.ok(keys.includes(plan[0].key), `${what}: ${JSON.stringify(plan)}`);
        assert.equal(plan[0].type, "range", `${what}: ${JSON.stringify(plan)}`);
      }
      assert.deepEqual(await store.keys(), []);
    });

    it("every key and value is a bound parameter: quotes, %, _, \\ and SQL are plain bytes", async () => {
      const { name, url } = await database();
      const { client, seen } = spy(track(mysqlPromise.createPool(url)));
      const root = kv(client);
      const odd = [
        "it's",
        '"q"',
        "100%",
        "a_b",
        "back\\slash",
        "'; DROP TABLE kv; --",
        "?",
        "%",
        "_",
        "\\",
        "\\%",
        "`",
      ];
      seen.length = 0;
      for (const key of odd) await root.set(key, { key: `v${key}` });
      for (const key of odd) {
        assert.deepEqual(await root.get(key), { key: `v${key}` }, key);
        assert.equal(await root.has(key), true, key);
      }
      // (the table's setup statements take no parameters)
      for (const [sql, params] of seen.filter(([, params]) => params.length)) {
        for (const key of odd.filter((k) => k.length > 1)) assert.ok(!sql.includes(key), `${sql} holds ${key}`);
        assert.ok(Buffer.isBuffer(params[0]), "the key is sent as bytes");
      }
      const [rows] = await admin.query(`SELECT id, value FROM ${name}.kv`);
      assert.deepEqual(rows.map((r) => r.id.toString()).sort(byCodePoint), odd.slice().sort(byCodePoint));
      assert.deepEqual(JSON.parse(rows.find((r) => r.id.toString() === "it's").value), { key: "vit's" });

      for (const key of ["p%1", "p%%2", "pX1", "p1", "p_1", "pY_1", "p\\1", "p\\\\2", "pZ1"]) await root.set(key, key);
      assert.deepEqual(await root.prefix("p%").keys(), ["%2", "1"]);
      assert.deepEqual(await root.prefix("p_").keys(), ["1"]);
      assert.deepEqual(await root.prefix("p\\").keys(), ["1", "\\2"]);
      await root.prefix("p%").clear();
      await root.prefix("p_").clear();
      assert.deepEqual(await root.prefix("p").keys(), ["1", "X1", "Y_1", "Z1", "\\1", "\\\\2"]);
      for (const key of odd) await root.del(key);
      const [[{ n }]] = await admin.query(`SELECT COUNT(*) AS n FROM ${name}.kv WHERE id NOT LIKE 'p%'`);
      assert.equal(n, 0);
    });

    it("keys are bytes: case, accents and trailing spaces make different keys, listed in code-point order", async () => {
      const { url } = await database();
      const root = kv(track(mysqlPromise.createPool(url)));
      // Under a _ci or PAD SPACE collation these would be one key, or list out of order.
      const inside = ["a:", "a:b", "a:B", "a:b ", "a:é", "a:e", "a:É", "a:\u{D7FF}", "a:\u{E000}", "a:\u{1F600}"];
      const more = ["a:\u{10FFFF}", "a:a:a", "a:\u0000", "a:ß", "a:ss"];
      const outside = ["a;", "a9", "A:b", "a :b", "ä:b", "a", "b", "A:", "a\u00a0:b", "á:b", "a-:b", ""];
      const all = [...inside, ...more, ...outside];
      for (const key of all) await root.set(key, key);
      for (const key of all) assert.equal(await root.get(key), key, JSON.stringify(key));
      const store = root.prefix("a:");
      const expected = [...inside, ...more].sort(byCodePoint);
      assert.deepEqual(
        await store.keys(),
        expected.map((key) => key.slice(2)),
      );
      assert.deepEqual(await store.values(), expected);
      assert.deepEqual(
        (await collect(store)).map(([key]) => key),
        expected.map((key) => key.slice(2)),
      );
      assert.deepEqual(await root.keys(), all.slice().sort(byCodePoint));
      await store.clear();
      assert.deepEqual(await root.keys(), outside.slice().sort(byCodePoint));
      // A prefix of 0xff-ending bytes has no upper bound: still exact.
      await root.set("\u{10FFFF}", 1);
      await root.set("\u{10FFFF}x", 2);
      assert.deepEqual(await root.prefix("\u{10FFFF}").keys(), ["", "x"]);
    });

    it("a connection whose character set is latin1 cannot mangle keys or values", async () => {
      const { name, url } = await database();
      const store = kv(track(mysqlPromise.createPool({ uri: url, charset: "latin1_swedish_ci" })));
      const value = { text: "é 😀 ß €", list: ["\u{10FFFF}"] };
      await store.set("ключ:😀", value);
      assert.deepEqual(await store.get("ключ:😀"), value);
      assert.deepEqual(await store.prefix("ключ:").keys(), ["😀"]);
      const [rows] = await admin.query(`SELECT id, value FROM ${name}.kv`);
      assert.deepEqual(rows[0].id, Buffer.from("ключ:😀"));
      assert.deepEqual(JSON.parse(rows[0].value), value, "stored as utf8mb4 text");
    });

    it("works whatever result shape the app set on its client (rowsAsArray, nestTables, metaAsArray)", async () => {
      const { url } = await database();
      const clients = [
        mysqlPromise.createPool({ uri: url, rowsAsArray: true }),
        mysql.createPool({ uri: url, nestTables: true }),
        mysql.createConnection({ uri: url, rowsAsArray: true }),
        mariadb.createPool({ ...mariadbOptions(url), connectionLimit: 2, rowsAsArray: true }),
        mariadb.createPool({ ...mariadbOptions(url), connectionLimit: 2, metaAsArray: true }),
        mariadb.createPool({ ...mariadbOptions(url), connectionLimit: 2, nestTables: true }),
      ];
      for (const [i, client] of clients.entries()) {
        const store = kv(track(client), { prefix: `${i}:` });
        await store.set("k", { i });
        assert.deepEqual(await store.get("k"), { i }, `client ${i}`);
        assert.equal(await store.has("k"), true, `client ${i}`);
        assert.deepEqual(await store.entries(), [["k", { i }]], `client ${i}`);
        assert.deepEqual(await collect(store), [["k", { i }]], `client ${i}`);
      }
    });

    it("expiry is stored in ms on the server's clock; expired rows are invisible, then pruned", async () => {
      const { name, url } = await database();
      const store = kv(track(mysqlPromise.createPool(url)), { prefix: "e:" });
      await store.set("k", 1, { expires: 0.25 });
      await store.set("forever", 2);
      const [[{ ms }]] = await admin.query(
        `SELECT expires_at - (TIMESTAMPDIFF(MICROSECOND, '1970-01-01', UTC_TIMESTAMP(3)) DIV 1000) AS ms FROM ${name}.kv WHERE id = 'e:k'`,
      );
      assert.ok(ms > 150 && ms <= 250, `expires in ${ms} ms`);
      const [[{ skew }]] = await admin.query(`SELECT ABS(expires_at - ?) AS skew FROM ${name}.kv WHERE id = 'e:k'`, [
        Date.now() + 250,
      ]);
      assert.ok(Number(skew) < 200, `the server's ms clock is Unix time (off by ${skew} ms)`);
      await sleep(300);
      assert.equal(await store.get("k"), null);
      assert.equal(await store.has("k"), false);
      assert.deepEqual(await store.keys(), ["forever"]);
      const [before] = await admin.query(`SELECT id FROM ${name}.kv ORDER BY id`);
      assert.equal(before.length, 2, "expired but not pruned yet");
      await store.prefix("other:").prune();
      assert.equal((await admin.query(`SELECT id FROM ${name}.kv`))[0].length, 2, "prune stays in its prefix");
      await store.prune();
      const [left] = await admin.query(`SELECT id FROM ${name}.kv`);
      assert.deepEqual(
        left.map((r) => r.id.toString()),
        ["e:forever"],
      );
    });

    it("iteration pages through a large prefix in code-point order", async () => {
      const { name, url } = await database();
      const root = kv(track(mysqlPromise.createPool(url)));
      await root.has("x");
      const keys = Array.from({ length: 1234 }, (_, i) => `${i % 7 ? "x" : "X"}${i}${i % 5 ? "" : "é"}`);
      await admin.query(
        `INSERT INTO ${name}.kv (id, value) VALUES ${keys.map(() => "(?, ?)").join(",")}`,
        keys.flatMap((key) => [`big:${key}`, JSON.stringify(key)]),
      );
      await root.set("bif", 0);
      await root.set("bih", 0);
      const seen = [];
      for await (const [key, value] of root.prefix("big:")) {
        assert.equal(value, key);
        seen.push(key);
      }
      assert.deepEqual(seen, keys.slice().sort(byCodePoint));
    });

    it("a key longer than the id column is a clear TypeError before any query; the longest key works", async () => {
      const { name, url } = await database();
      const store = kv(track(mysqlPromise.createPool(url)));
      const longest = "é".repeat(1536); // 3072 bytes
      await store.set(longest, 1);
      assert.equal(await store.get(longest), 1);
      for (const call of [
        () => store.set(`${longest}x`, 1),
        () => store.get(`${longest}x`),
        () => store.has(`${longest}x`),
        () => store.del(`${longest}x`),
      ]) {
        await assert.rejects(
          call,
          (error) => fails("ERR_POLYKV_KEY", TypeError)(error) && /3073 bytes/.test(error.message),
        );
      }
      // On a table made with a shorter id, that table's length is the limit.
      const other = await database();
      await admin.query(
        `CREATE TABLE ${other.name}.kv (id VARBINARY(16) PRIMARY KEY, value LONGTEXT NOT NULL, expires_at BIGINT)`,
      );
      const short = kv(track(mysqlPromise.createPool(other.url)));
      await short.set("0123456789abcdef", 1);
      await assert.rejects(short.set("0123456789abcdefg", 1), (error) => /at most 16 bytes/.test(error.message));
      assert.equal((await admin.query(`SELECT COUNT(*) AS n FROM ${name}.kv`))[0][0].n, 1);
    });

    it("refuses a kv table whose id is text, and a client without a database, with clear errors", async () => {
      const { name, url } = await database();
      await admin.query(
        `CREATE TABLE ${name}.kv (id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci PRIMARY KEY, value TEXT)`,
      );
      const theirs = kv(track(mysqlPromise.createPool(url)));
      await assert.rejects(
        theirs.get("k"),
        (error) =>
          fails("ERR_POLYKV_BACKEND")(error) && /varchar/.test(error.message) && /VARBINARY/.test(error.message),
      );
      const bare = new URL(URL_);
      bare.pathname = "/";
      const nowhere = kv(track(mysqlPromise.createPool(bare.href)));
      await assert.rejects(
        nowhere.set("k", 1),
        (error) => fails("ERR_POLYKV_CLIENT")(error) && /no database selected/.test(error.message),
      );
    });

    it("close() leaves every client the user passed open; kv(url).close() ends the pool it made", async () => {
      const { name, url } = await database();
      const clients = {
        "mysql2 promise Pool": mysqlPromise.createPool(url),
        "mysql2 promise Connection": await mysqlPromise.createConnection(url),
        "mysql2 callback Pool": mysql.createPool(url),
        "mysql2 callback Connection": mysql.createConnection(url),
        "mariadb Pool": mariadb.createPool({ ...mariadbOptions(url), connectionLimit: 2 }),
        "mariadb Connection": await mariadb.createConnection(mariadbOptions(url)),
        "mariadb callback Pool": mariadbCallback.createPool({ ...mariadbOptions(url), connectionLimit: 2 }),
      };
      for (const [what, client] of Object.entries(clients)) {
        track(client);
        const store = kv(client, { prefix: `${what}:` });
        assert.equal(store.type, "MYSQL", what);
        await store.set("k", { what });
        assert.deepEqual(await store.get("k"), { what }, what);
        assert.deepEqual(await store.keys(), ["k"], what);
        await store.close();
        assert.deepEqual(await store.get("k"), { what }, `${what} still works after close()`);
      }
      const [[{ n }]] = await admin.query(`SELECT COUNT(*) AS n FROM ${name}.kv`);
      assert.equal(n, Object.keys(clients).length);

      // Connections the server sees in this test's database.
      const connections = async () =>
        Number(
          (await admin.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?", [name]))[0][0].n,
        );
      for (const client of Object.values(clients)) {
        opened.splice(opened.indexOf(client), 1);
        await end(client);
      }
      await sleep(100);
      assert.equal(await connections(), 0);
      const own = kv(url);
      await Promise.all(Array.from({ length: 5 }, (_, i) => own.set(`own${i}`, i)));
      assert.ok((await connections()) > 0);
      await own.close();
      await sleep(100);
      assert.equal(await connections(), 0, "the pool polykv made is ended");
      await assert.rejects(own.get("own1"));
    });

    it("a binary value is its bytes in value_bytes (value ''); a JSON value keeps value_bytes NULL", async () => {
      const { name, url } = await database();
      const store = kv(track(mysqlPromise.createPool(url)));
      const bytes = Buffer.from([0xff, 0, 0xc3, 0x28, 32]);
      await store.set("bin", bytes);
      await store.set("json", "text");
      await store.set("empty", new Uint8Array(0));
      const [rows] = await admin.query(`SELECT id, value, value_bytes FROM ${name}.kv ORDER BY id`);
      assert.deepEqual(
        rows.map((row) => [row.id.toString(), row.value, row.value_bytes]),
        [
          ["bin", "", bytes],
          ["empty", "", Buffer.alloc(0)],
          ["json", '"text"', null],
        ],
      );
      assert.deepEqual(Buffer.from(await store.get("bin")), bytes);
      assert.equal((await store.get("empty")).byteLength, 0);
      // A JSON value over bytes (and back) leaves no trace of the other.
      await store.set("bin", { now: "json" });
      await store.set("json", bytes);
      const [after] = await admin.query(
        `SELECT id, value, value_bytes FROM ${name}.kv WHERE id IN ('bin', 'json') ORDER BY id`,
      );
      assert.deepEqual(
        after.map((row) => [row.id.toString(), row.value, row.value_bytes]),
        [
          ["bin", '{"now":"json"}', null],
          ["json", "", bytes],
        ],
      );
    });

    it("a kv table made before binary values gets value_bytes at connect; its rows read as before", async () => {
      const { name, url } = await database();
      await admin.query(`CREATE TABLE ${name}.kv (
        id VARBINARY(3072) NOT NULL PRIMARY KEY,
        value LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        expires_at BIGINT NULL,
        INDEX idx_kv_expires_at (expires_at)
      ) ENGINE=InnoDB ROW_FORMAT=DYNAMIC`);
      await admin.query(`INSERT INTO ${name}.kv (id, value, expires_at) VALUES ('old', '{"kept":[1]}', NULL)`);
      // Two clients connect at once: one adds the column, the other finds it added.
      const stores = [kv(track(mysqlPromise.createPool(url))), kv(track(mariadb.createPool(mariadbOptions(url))))];
      assert.deepEqual(await Promise.all(stores.map((store) => store.get("old"))), [{ kept: [1] }, { kept: [1] }]);
      await stores[0].set("new", Buffer.from([1, 2]));
      assert.deepEqual([...(await stores[1].get("new"))], [1, 2]);
      const [columns] = await admin.query(
        "SELECT COLUMN_NAME AS name FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'kv' ORDER BY ORDINAL_POSITION",
        [name],
      );
      assert.deepEqual(
        columns.map((column) => column.name),
        ["id", "value", "expires_at", "value_bytes"],
      );
    });

    it("cas, touch and increment hold on clients without CLIENT_FOUND_ROWS (an unchanged row counts 0)", async () => {
      const { url } = await database();
      const clients = [
        mysqlPromise.createPool({ uri: url, flags: ["-FOUND_ROWS"] }),
        mariadb.createPool({ ...mariadbOptions(url), foundRows: false }),
      ];
      for (const [i, client] of clients.entries()) {
        const store = kv(track(client), { prefix: `${i}:` });
        await store.set("same", { v: 1 });
        assert.equal(await store.cas("same", { v: 1 }, { v: 1 }), true, "a cas to the very same value swaps");
        assert.equal(await store.cas("same", { v: 2 }, { v: 1 }), false);
        assert.equal(await store.touch("same", { expires: null }), true, "a touch to the same (no) deadline");
        assert.equal(await store.touch("missing", { expires: null }), false);
        await store.set("n", 1);
        assert.equal(await store.increment("n", 0), 1);
        assert.equal(await store.cas("n", 1, 2), true);
        assert.equal(await store.get("n"), 2);
      }
    });

    it("a list() page, getMany, setMany and delMany of up to 512 keys are one statement each", async () => {
      const { url } = await database();
      const pool = track(mysqlPromise.createPool(url));
      const { client, seen } = spy(pool);
      const store = kv(client, { prefix: "p:" });
      await store.has("warm-up");
      const keys = Array.from({ length: 1500 }, (_, i) => `k${String(i).padStart(4, "0")}`);
      const count = async (task) => {
        const start = seen.length;
        const result = await task();
        return { result, statements: seen.slice(start).map(([sql]) => sql.trim().split(/\s+/)[0]) };
      };
      let step = await count(() => store.setMany(keys.slice(0, 500).map((key) => [key, key])));
      assert.deepEqual(step.statements, ["INSERT"]);
      await store.setMany(keys.slice(500).map((key) => [key, key]));
      step = await count(() => store.list({ limit: 1000 }));
      assert.deepEqual(step.statements, ["SELECT"], "the first page");
      assert.equal(step.result.keys.length, 1000);
      const second = await count(() => store.list({ limit: 1000, cursor: step.result.cursor }));
      assert.deepEqual(second.statements, ["SELECT"], "the second page starts after the cursor");
      assert.deepEqual(
        second.result.keys.map((key) => key.name),
        keys.slice(1000),
      );
      step = await count(() => store.getMany(keys.slice(0, 300)));
      assert.deepEqual(step.statements, ["SELECT"]);
      assert.deepEqual(step.result, keys.slice(0, 300));
      step = await count(() => store.delMany(keys.slice(0, 100)));
      assert.deepEqual(step.statements, ["DELETE"]);
      assert.deepEqual(await store.getMany(["k0000", "k0099", "k0100"]), [null, null, "k0100"]);
    });

    it("a value over the server's max_allowed_packet is a clear TypeError, and the client stays usable", async () => {
      const { url } = await database();
      const [[{ packet }]] = await admin.query("SELECT @@max_allowed_packet AS packet");
      if (packet > 256 * 1024 * 1024) return; // too big a server limit to build a value over it here
      const pool = track(mysqlPromise.createPool({ uri: url, connectionLimit: 1 }));
      const store = kv(pool);
      await store.set("small", 1);
      const big = "x".repeat(Number(packet));
      await assert.rejects(store.set("big", big), fails("ERR_POLYKV_VALUE", TypeError));
      await assert.rejects(
        store.setMany([
          ["a", 1],
          ["big", big],
        ]),
        fails("ERR_POLYKV_VALUE", TypeError),
      );
      assert.deepEqual(await store.getMany(["small", "a", "big"]), [1, null, null]);
    });

    it("a single connection shared by concurrent increments, takes and setMany runs them all", async () => {
      const { url } = await database();
      for (const connection of [mysql.createConnection(url), await mariadb.createConnection(mariadbOptions(url))]) {
        const store = kv(track(connection), { prefix: `${randomBytes(3).toString("hex")}:` });
        await store.setMany(Array.from({ length: 20 }, (_, i) => [`t${i}`, i]));
        const [counts, taken] = await Promise.all([
          Promise.all(Array.from({ length: 30 }, () => store.increment("n"))),
          Promise.all(Array.from({ length: 40 }, (_, i) => store.getAndDelete(`t${i % 20}`))),
          store.setMany([
            ["x", 1],
            ["t0", null],
          ]),
        ]);
        assert.deepEqual(
          [...counts].sort((a, b) => a - b),
          Array.from({ length: 30 }, (_, i) => i + 1),
        );
        assert.ok(taken.filter((value) => value !== null).length <= 20);
        assert.equal(await store.get("n"), 30);
        assert.equal(await store.get("x"), 1);
        assert.deepEqual(await store.keys(), ["n", "x"]);
      }
    });

    it("the stores of one kv() share its setup; first calls of several clients on a new database all work", async () => {
      const { url } = await database();
      const pool = track(mysqlPromise.createPool(url));
      const { client, seen } = spy(pool);
      const a = kv(client, { prefix: "a:" });
      const b = a.prefix("b:");
      const c = kv(track(mysqlPromise.createPool(url)), { prefix: "c:" });
      const d = kv(track(mariadb.createPool({ ...mariadbOptions(url), connectionLimit: 2 })), { prefix: "d:" });
      const e = kv(track(mysql.createConnection(url)), { prefix: "e:" });
      await Promise.all([a.set("1", 1), b.set("2", 2), c.set("3", 3), d.set("4", 4), e.set("5", 5)]);
      assert.deepEqual(await kv(pool).keys(), ["a:1", "a:b:2", "c:3", "d:4", "e:5"]);
      assert.equal(seen.filter(([sql]) => /CREATE TABLE/.test(sql)).length, 1);
    });
  });
}

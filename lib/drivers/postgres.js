"use strict";
// POSTGRES: the user's `pg` Client or Pool (recognised as polystore does: a
// `query` function and no `filename`), or kv("postgres://…") / "postgresql://…": a
// pg Pool made from the app's own `pg`, which close() ends (as it ends the user's).
//
// Table, shared with polystore so either library reads the other's data:
//   kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at TIMESTAMPTZ, bytes BYTEA)
//   + an index on expires_at. `value` is the JSON text; a row whose expires_at
//   has passed is invisible and removed by prune(). A binary value is kept as it is
//   in `bytes` (added to a table polystore made, which ignores it), with `value`
//   holding the marker BYTES_MARKER; every other row has `bytes` NULL and is the
//   row polystore writes and reads.
//
// Prefix listing is a range scan on the primary key: prefix <= id < successor
// (the prefix with its last character incremented), never LIKE, so `%`, `_` and
// `\` in a prefix are plain characters. The range is only right in code-point
// order, which is collation "C"; a database's default collation (en_US, ICU…)
// sorts differently ("a" < "B"). So every comparison says COLLATE "C", a table
// we create has `id TEXT COLLATE "C"` (its primary key then serves the range),
// and on an existing table whose id sorts otherwise (one polystore created) we
// add the index `idx_kv_id_c ON kv (id COLLATE "C")` so the range stays an
// index scan. polystore's own queries (`=`, LIKE) work on both.
//
// Expiry is the time left (the deadline less the app's clock) added to the server's
// now(), and compared with the server's now(): no clock skew between app and database.
// Every value is a bound parameter; the table name is a constant.
// Postgres text cannot hold NUL (U+0000): such a key is refused before any query.
//
// Atomic operations are single statements, so they hold across processes and
// connections under Postgres's default READ COMMITTED isolation: swap is an UPDATE
// or DELETE whose WHERE names the value read (a concurrent writer makes it match no
// row), or an INSERT … ON CONFLICT that only replaces an expired row; increment is
// one upsert computing on float8 (JavaScript's own number arithmetic); getAndDelete
// is DELETE … RETURNING. Bulk reads and deletes are `= ANY($1)`; setMany is one
// statement (a DELETE in a WITH beside an INSERT … SELECT FROM unnest), so all or
// nothing.

const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { prefixEnd, remainingMs } = require("../rules.js");
const { decode } = require("../json.js");
const { requirePeer } = require("../peer.js");
const { watchCalls } = require("../link.js");
const { openValue } = require("../record.js");
const { notANumber, sum } = require("../atomic.js");

// Errors that say the server is gone rather than that it refused the statement.
const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "57P01", "57P02", "57P03"]);
function isConnectionError(error) {
  return (
    CONNECTION_CODES.has(error?.code) || /Connection terminated|not queryable|connection timeout/i.test(error?.message)
  );
}

const CAPS = capabilities({ ordered: true, atomic: true, bytes: true });

// What `value` holds on a row whose value is in `bytes`: JSON, so polystore reads
// the row without failing; polykv reads `bytes` instead (a tag with neither
// "value" nor "bytes" in it, so a row that lost its bytes reads as corrupt).
const BYTES_MARKER = '{"$polykv":1,"bytea":true}';

const PAGE = 500; // rows per page when iterating, so memory stays flat

const LIVE = "(expires_at IS NULL OR expires_at > now())";
// The deadline as the server keeps it, in Unix ms (null: never).
const DEADLINE = "(extract(epoch FROM expires_at) * 1000)::float8 AS expires_ms";
const AFTER_MS = "now() + $4::float8 * interval '1 millisecond'";
const SQL = {
  create: `CREATE TABLE IF NOT EXISTS kv (
    id TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at TIMESTAMPTZ,
    bytes BYTEA
  )`,
  expiresIndex: "CREATE INDEX IF NOT EXISTS idx_kv_expires_at ON kv (expires_at)",
  codePointIndex: 'CREATE INDEX IF NOT EXISTS idx_kv_id_c ON kv (id COLLATE "C")',
  // A table polystore created has no bytes column yet.
  hasBytes: "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('kv') AND attname = 'bytes' AND NOT attisdropped",
  addBytes: "ALTER TABLE kv ADD COLUMN IF NOT EXISTS bytes BYTEA",
  // Does kv.id already sort in code-point order? (pg_database.datlocprovider only
  // exists from Postgres 15 on, hence to_jsonb; before 15 the provider is libc.)
  collation: `SELECT c.collname AS column_collation, d.datcollate, to_jsonb(d) ->> 'datlocprovider' AS provider
    FROM pg_attribute a
    JOIN pg_collation c ON c.oid = a.attcollation
    JOIN pg_database d ON d.datname = current_database()
    WHERE a.attrelid = to_regclass('kv') AND a.attname = 'id'`,
  get: `SELECT value, bytes FROM kv WHERE id = $1 AND ${LIVE}`,
  getRecord: `SELECT value, bytes, ${DEADLINE} FROM kv WHERE id = $1 AND ${LIVE}`,
  has: `SELECT 1 FROM kv WHERE id = $1 AND ${LIVE}`,
  // Moves a live row's deadline alone: the value is not rewritten (docs/behaviour.md §32).
  touch: `UPDATE kv SET expires_at = now() + $2::float8 * interval '1 millisecond' WHERE id = $1 AND ${LIVE}`,
  set: `INSERT INTO kv (id, value, bytes, expires_at) VALUES ($1, $2, $3, ${AFTER_MS})
    ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, bytes = EXCLUDED.bytes, expires_at = EXCLUDED.expires_at`,
  del: "DELETE FROM kv WHERE id = $1",
  // swap when the key is absent: insert, or replace a row only if it has expired.
  insertIfAbsent: `INSERT INTO kv (id, value, bytes, expires_at) VALUES ($1, $2, $3, ${AFTER_MS})
    ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, bytes = EXCLUDED.bytes, expires_at = EXCLUDED.expires_at
    WHERE kv.expires_at <= now()`,
  // swap of a live row, only while it still holds what was read ($5: the text, or $6: the bytes).
  replaceIfSeen: `UPDATE kv SET value = $2, bytes = $3,
      expires_at = CASE WHEN $7::boolean THEN expires_at ELSE ${AFTER_MS} END
    WHERE id = $1 AND ${LIVE} AND (CASE WHEN $6::bytea IS NULL THEN bytes IS NULL AND value = $5 ELSE bytes = $6 END)`,
  deleteIfSeen: `DELETE FROM kv
    WHERE id = $1 AND ${LIVE} AND (CASE WHEN $3::bytea IS NULL THEN bytes IS NULL AND value = $2 ELSE bytes = $3 END)`,
  // A live JSON number gets `by` added; an absent or expired key starts at `by`
  // with the given expiry; anything else matches nothing (the caller then looks).
  increment: `INSERT INTO kv AS t (id, value, expires_at) VALUES ($1, $2, now() + $3::float8 * interval '1 millisecond')
    ON CONFLICT (id) DO UPDATE SET
      value = CASE WHEN t.expires_at <= now() THEN EXCLUDED.value ELSE (t.value::float8 + $4::float8)::text END,
      bytes = NULL,
      expires_at = CASE WHEN t.expires_at <= now() THEN EXCLUDED.expires_at ELSE t.expires_at END
    WHERE t.expires_at <= now() OR (t.bytes IS NULL AND jsonb_typeof(t.value::jsonb) = 'number')
    RETURNING value`,
  take: `DELETE FROM kv WHERE id = $1 RETURNING value, bytes, ${LIVE} AS live`,
  getMany: `SELECT id, value, bytes FROM kv WHERE id = ANY($1::text[]) AND ${LIVE}`,
  setMany: `WITH gone AS (DELETE FROM kv WHERE id = ANY($1::text[]))
    INSERT INTO kv (id, value, bytes, expires_at)
    SELECT id, value, bytes, now() + ms * interval '1 millisecond'
    FROM unnest($2::text[], $3::text[], $4::bytea[], $5::float8[]) AS w(id, value, bytes, ms)
    ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, bytes = EXCLUDED.bytes, expires_at = EXCLUDED.expires_at`,
  delMany: "DELETE FROM kv WHERE id = ANY($1::text[])",
};

// A stored form (JSON text or bytes) as the two columns hold it: [value, bytes].
function columns(stored) {
  if (typeof stored === "string") return [stored, null];
  return [BYTES_MARKER, Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)];
}

// A row's stored form as getRaw() hands it out: the JSON text, or the bytes.
const rawOf = (row) => row.bytes ?? row.value;

// A row's value as get() reads it: the parsed JSON, or the bytes.
const valueOf = (row, key) => row.bytes ?? decode("POSTGRES", key, row.value);

const deadlineOf = (row) => (row.expires_ms === null ? null : Math.round(row.expires_ms));

// `AND id in [prefix, prefixEnd(prefix))` with its parameters, numbered from `next`.
// `from` replaces the lower bound (a page cursor, exclusive).
function range(prefix, next, from) {
  const sql = [];
  const params = [];
  if (from !== undefined) {
    sql.push(`id COLLATE "C" > $${next + params.length}`);
    params.push(from);
  } else if (prefix) {
    sql.push(`id COLLATE "C" >= $${next + params.length}`);
    params.push(prefix);
  }
  const upper = prefix ? prefixEnd(prefix) : null;
  if (upper !== null) {
    sql.push(`id COLLATE "C" < $${next + params.length}`);
    params.push(upper);
  }
  return { sql: sql.map((part) => ` AND ${part}`).join(""), params };
}

function checkText(what, text) {
  if (text.includes("\0")) {
    throw polykvError(
      "ERR_POLYKV_KEY",
      "POSTGRES",
      `the ${what} ${JSON.stringify(text)} contains a NUL character (U+0000), which Postgres text cannot store`,
    );
  }
}

function isCodePointOrder(row) {
  if (!row) return true; // no such column: nothing to index
  if (row.column_collation === "C" || row.column_collation === "POSIX") return true;
  if (row.column_collation !== "default") return false;
  return (row.provider === null || row.provider === "c") && (row.datcollate === "C" || row.datcollate === "POSIX");
}

class PostgresDriver {
  type = "POSTGRES";
  caps = CAPS;
  #db;

  constructor(db) {
    this.#db = db;
  }

  async connect() {
    const db = this.#db;
    // A pg Client not connected yet (a Pool has neither flag and connects per query).
    if (db._connected === false && db._connecting === false) await db.connect();
    await this.#createOnce(SQL.create);
    await this.#createOnce(SQL.expiresIndex);
    if ((await db.query(SQL.hasBytes)).rows.length === 0) await db.query(SQL.addBytes);
    const { rows } = await db.query(SQL.collation);
    if (!isCodePointOrder(rows[0])) await this.#createOnce(SQL.codePointIndex);
  }

  // Two processes running CREATE … IF NOT EXISTS at once can still collide on
  // the catalog; the loser finds the object there on a second try.
  async #createOnce(sql) {
    try {
      await this.#db.query(sql);
    } catch (error) {
      // 23505 unique_violation on the catalog, 42P07 duplicate_table, 42710
      // duplicate_object (the table's row type, made by the other CREATE).
      if (error.code !== "23505" && error.code !== "42P07" && error.code !== "42710") throw error;
      await this.#db.query(sql);
    }
  }

  // One prepared statement of SQL (named after its entry), with `values`.
  #run(name, values) {
    return this.#db.query({ name: `polykv_kv_${name}`, text: SQL[name], values });
  }

  async get(key) {
    checkText("key", key);
    const { rows } = await this.#run("get", [key]);
    return rows.length ? valueOf(rows[0], key) : null;
  }

  async getRecord(key) {
    checkText("key", key);
    const { rows } = await this.#run("getRecord", [key]);
    return rows.length ? { value: valueOf(rows[0], key), expiresAt: deadlineOf(rows[0]) } : null;
  }

  async set(key, stored, expiresAt) {
    checkText("key", key);
    await this.#run("set", [key, ...columns(stored), remainingMs(expiresAt)]);
  }

  async has(key) {
    checkText("key", key);
    return (await this.#run("has", [key])).rows.length > 0;
  }

  async touch(key, expiresAt) {
    checkText("key", key);
    return (await this.#run("touch", [key, remainingMs(expiresAt)])).rowCount > 0;
  }

  async del(key) {
    checkText("key", key);
    await this.#run("del", [key]);
  }

  async getRaw(key) {
    checkText("key", key);
    const { rows } = await this.#run("get", [key]);
    return rows.length ? rawOf(rows[0]) : null;
  }

  // One statement each: see the SQL above.
  async swap(key, seen, next, expiresAt) {
    checkText("key", key);
    if (seen === null) {
      if (next === null) return !(await this.has(key));
      const { rowCount } = await this.#run("insertIfAbsent", [key, ...columns(next), remainingMs(expiresAt ?? null)]);
      return rowCount === 1;
    }
    const [seenText, seenBytes] = typeof seen === "string" ? [seen, null] : [null, seen];
    if (next === null) return (await this.#run("deleteIfSeen", [key, seenText, seenBytes])).rowCount === 1;
    const keep = expiresAt === undefined;
    const values = [key, ...columns(next), keep ? null : remainingMs(expiresAt), seenText, seenBytes, keep];
    return (await this.#run("replaceIfSeen", values)).rowCount === 1;
  }

  async increment(key, by, expiresAt) {
    checkText("key", key);
    for (;;) {
      let rows;
      try {
        ({ rows } = await this.#run("increment", [key, JSON.stringify(by), remainingMs(expiresAt), by]));
      } catch (error) {
        // float8 overflow (22003): the sum is beyond a JSON number, nothing was written.
        if (error?.code === "22003") sum(key, Infinity, 0);
        throw error;
      }
      if (rows.length) return JSON.parse(rows[0].value);
      // The key holds something other than a plain JSON number: a number with
      // metadata (a tagged record) is counted by swap, anything else is refused.
      const raw = await this.getRaw(key);
      if (raw === null) continue;
      const current = typeof raw === "string" ? openValue(decode("POSTGRES", key, raw), "POSTGRES") : raw;
      if (typeof current !== "number") throw notANumber(key, current);
      const total = sum(key, current, by);
      if (await this.swap(key, raw, JSON.stringify(total), undefined)) return total;
    }
  }

  async getAndDelete(key) {
    checkText("key", key);
    const { rows } = await this.#run("take", [key]);
    return rows.length && rows[0].live ? valueOf(rows[0], key) : null;
  }

  async getMany(keys) {
    for (const key of keys) checkText("key", key);
    const { rows } = await this.#run("getMany", [keys]);
    const found = new Map(rows.map((row) => [row.id, row]));
    // Decoded per position, so a key asked twice gives two copies.
    return keys.map((key) => (found.has(key) ? valueOf(found.get(key), key) : null));
  }

  async setMany(writes) {
    // The last write of a key wins (one statement cannot touch a row twice).
    const last = new Map();
    for (const write of writes) {
      checkText("key", write[0]);
      last.delete(write[0]);
      last.set(write[0], write);
    }
    const gone = [];
    const ids = [];
    const texts = [];
    const bytes = [];
    const ms = [];
    for (const [key, stored, expiresAt] of last.values()) {
      if (stored === null) {
        gone.push(key);
        continue;
      }
      const [text, data] = columns(stored);
      ids.push(key);
      texts.push(text);
      bytes.push(data);
      ms.push(remainingMs(expiresAt));
    }
    await this.#run("setMany", [gone, ids, texts, bytes, ms]);
  }

  async delMany(keys) {
    for (const key of keys) checkText("key", key);
    await this.#run("delMany", [keys]);
  }

  // Pages of live rows under `prefix` after the key `after` (exclusive), in
  // code-point order, each row with `columns`; `size` rows a page (the last may be short).
  async *#pages(columns, prefix, after, size) {
    checkText("prefix", prefix);
    if (after !== undefined) checkText("key", after);
    for (;;) {
      const where = range(prefix, 1, after);
      const { rows } = await this.#db.query(
        `SELECT ${columns} FROM kv WHERE ${LIVE}${where.sql} ORDER BY id COLLATE "C" LIMIT ${size}`,
        where.params,
      );
      yield rows;
      if (rows.length < size) return;
      after = rows[rows.length - 1].id;
    }
  }

  async *iterate(prefix = "", after = undefined) {
    for await (const rows of this.#pages(`id, value, bytes, ${DEADLINE}`, prefix, after, PAGE)) {
      for (const row of rows) yield [row.id, valueOf(row, row.id), deadlineOf(row)];
    }
  }

  // A list() page is one indexed range read of exactly `limit` + 1 rows.
  async listPage(prefix, after, limit) {
    const pages = this.#pages(`id, value, bytes, ${DEADLINE}`, prefix, after ?? undefined, limit + 1);
    const { value: rows } = await pages.next();
    await pages.return();
    const records = rows.slice(0, limit).map((row) => [row.id, valueOf(row, row.id), deadlineOf(row)]);
    return { records, next: rows.length > limit ? records[limit - 1][0] : null };
  }

  // Every live row under `prefix`, in code-point order (the range's own index order).
  async #select(columns, prefix) {
    checkText("prefix", prefix);
    const where = range(prefix, 1);
    const sql = `SELECT ${columns} FROM kv WHERE ${LIVE}${where.sql} ORDER BY id COLLATE "C"`;
    return (await this.#db.query(sql, where.params)).rows;
  }

  async keys(prefix = "") {
    return (await this.#select("id", prefix)).map((row) => row.id);
  }

  async entries(prefix = "") {
    return (await this.#select("id, value, bytes", prefix)).map((row) => [row.id, valueOf(row, row.id)]);
  }

  async values(prefix = "") {
    return (await this.#select("id, value, bytes", prefix)).map((row) => valueOf(row, row.id));
  }

  async clear(prefix = "") {
    checkText("prefix", prefix);
    const where = range(prefix, 1);
    await this.#db.query(`DELETE FROM kv WHERE TRUE${where.sql}`, where.params);
  }

  async prune(prefix = "") {
    checkText("prefix", prefix);
    const where = range(prefix, 1);
    await this.#db.query(`DELETE FROM kv WHERE expires_at <= now()${where.sql}`, where.params);
  }

  async close() {
    if (typeof this.#db.end === "function") await this.#db.end();
  }
}

const URL_SCHEME = /^postgres(ql)?:\/\//i;

// The href of a postgres:// or postgresql:// string or URL, or null.
function postgresUrl(input) {
  const href = input instanceof URL ? input.href : input;
  return typeof href === "string" && URL_SCHEME.test(href) ? href : null;
}

module.exports = {
  name: "POSTGRES",
  test: (input) =>
    postgresUrl(input) !== null ||
    Boolean(input && typeof input === "object" && typeof input.query === "function" && !input.filename),
  create(input) {
    const url = postgresUrl(input);
    if (url === null) return watchCalls(new PostgresDriver(input), isConnectionError);
    const { Pool } = requirePeer("pg", "POSTGRES", url.slice(0, url.indexOf(":") + 1).toLowerCase());
    // allowExitOnIdle: a store nobody closes does not keep the process alive once idle.
    const pool = new Pool({ connectionString: url, allowExitOnIdle: true });
    const driver = watchCalls(new PostgresDriver(pool), isConnectionError);
    // An idle client of the pool that loses its server is an `error` event of the
    // pool, which would crash the process with no listener: it goes to the store's.
    pool.on("error", (error) => driver.notify?.("error", error));
    return driver;
  },
};

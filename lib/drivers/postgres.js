"use strict";
// POSTGRES: the user's `pg` Client or Pool (recognised as polystore does: a
// `query` function and no `filename`), or kv("postgres://…") / "postgresql://…": a
// pg Pool made from the app's own `pg`, which close() ends (as it ends the user's).
//
// Table, shared with polystore so either library reads the other's data:
//   kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at TIMESTAMPTZ)
//   + an index on expires_at. `value` is the JSON text; a row whose expires_at
//   has passed is invisible and removed by prune().
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

const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { prefixEnd, remainingMs } = require("../rules.js");
const { decode } = require("../json.js");
const { requirePeer } = require("../peer.js");

const CAPS = capabilities({ ordered: true, atomic: true });

const PAGE = 500; // rows per page when iterating, so memory stays flat

const LIVE = "(expires_at IS NULL OR expires_at > now())";
const SQL = {
  create: `CREATE TABLE IF NOT EXISTS kv (
    id TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at TIMESTAMPTZ
  )`,
  expiresIndex: "CREATE INDEX IF NOT EXISTS idx_kv_expires_at ON kv (expires_at)",
  codePointIndex: 'CREATE INDEX IF NOT EXISTS idx_kv_id_c ON kv (id COLLATE "C")',
  // Does kv.id already sort in code-point order? (pg_database.datlocprovider only
  // exists from Postgres 15 on, hence to_jsonb; before 15 the provider is libc.)
  collation: `SELECT c.collname AS column_collation, d.datcollate, to_jsonb(d) ->> 'datlocprovider' AS provider
    FROM pg_attribute a
    JOIN pg_collation c ON c.oid = a.attcollation
    JOIN pg_database d ON d.datname = current_database()
    WHERE a.attrelid = to_regclass('kv') AND a.attname = 'id'`,
  get: `SELECT value FROM kv WHERE id = $1 AND ${LIVE}`,
  has: `SELECT 1 FROM kv WHERE id = $1 AND ${LIVE}`,
  set: `INSERT INTO kv (id, value, expires_at) VALUES ($1, $2, now() + $3::float8 * interval '1 millisecond')
    ON CONFLICT (id) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at`,
  del: "DELETE FROM kv WHERE id = $1",
};

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
    const { rows } = await db.query(SQL.collation);
    if (!isCodePointOrder(rows[0])) await this.#createOnce(SQL.codePointIndex);
  }

  // Two processes running CREATE … IF NOT EXISTS at once can still collide on
  // the catalog; the loser finds the object there on a second try.
  async #createOnce(sql) {
    try {
      await this.#db.query(sql);
    } catch (error) {
      if (error.code !== "23505" && error.code !== "42P07") throw error;
      await this.#db.query(sql);
    }
  }

  async get(key) {
    checkText("key", key);
    const { rows } = await this.#db.query({ name: "polykv_kv_get", text: SQL.get, values: [key] });
    return rows.length ? decode("POSTGRES", key, rows[0].value) : null;
  }

  async set(key, text, expiresAt) {
    checkText("key", key);
    await this.#db.query({ name: "polykv_kv_set", text: SQL.set, values: [key, text, remainingMs(expiresAt)] });
  }

  async has(key) {
    checkText("key", key);
    return (await this.#db.query({ name: "polykv_kv_has", text: SQL.has, values: [key] })).rows.length > 0;
  }

  async del(key) {
    checkText("key", key);
    await this.#db.query({ name: "polykv_kv_del", text: SQL.del, values: [key] });
  }

  async *iterate(prefix = "") {
    checkText("prefix", prefix);
    let after;
    for (;;) {
      const where = range(prefix, 1, after);
      const { rows } = await this.#db.query(
        `SELECT id, value FROM kv WHERE ${LIVE}${where.sql} ORDER BY id COLLATE "C" LIMIT ${PAGE}`,
        where.params,
      );
      for (const row of rows) yield [row.id, decode("POSTGRES", row.id, row.value)];
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1].id;
    }
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
    return (await this.#select("id, value", prefix)).map((row) => [row.id, decode("POSTGRES", row.id, row.value)]);
  }

  async values(prefix = "") {
    return (await this.#select("id, value", prefix)).map((row) => decode("POSTGRES", row.id, row.value));
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
    if (url === null) return new PostgresDriver(input);
    const { Pool } = requirePeer("pg", "POSTGRES", url.slice(0, url.indexOf(":") + 1).toLowerCase());
    // allowExitOnIdle: a store nobody closes does not keep the process alive once idle.
    return new PostgresDriver(new Pool({ connectionString: url, allowExitOnIdle: true }));
  },
};

"use strict";
// SQLite, in two forms, both on polystore's table
//   kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)   -- Unix ms or NULL
// so one database file works with polykv, polystore and plain SQL:
// - a `sqlite:` URL string opens the database in Rust (rusqlite, src/backend/sqlite.rs):
//     kv("sqlite:///abs/path.db")  kv("sqlite:relative/path.db")  kv("sqlite::memory:")
//     kv("sqlite:")  the zero-config default: $POLYKV_SQLITE_PATH, else ./.polykv/store.db
// - a SQLite database object (better-sqlite3, node:sqlite DatabaseSync, bun:sqlite),
//   recognised by its `prepare()` and `exec()`, runs the same SQL through that object.
// A binary value is a BLOB in the value column (`typeof(value) = 'blob'`; JSON stays
// TEXT, so polystore reads every record it could write); metadata rides in polykv's
// tagged record (lib/record.js).

const path = require("node:path");
const { addon } = require("../addon.js");
const { prefixEnd } = require("../rules.js");
const { capabilities } = require("../contract.js");
const { BatchingDriver, NativeDriver, PAGE } = require("../native-store.js");
const { decode } = require("../json.js");

const DEFAULT_PATH = path.join(".polykv", "store.db");

/** The database path a `sqlite:` URL names (":memory:" for an in-memory one). */
function sqlitePath(url) {
  let rest = url.replace(/^sqlite:/i, "");
  if (rest.startsWith("//")) rest = rest.slice(2); // sqlite:///abs → /abs, sqlite://rel → rel
  rest = rest.replace(/[?#].*$/, "");
  if (rest === ":memory:") return rest;
  if (rest === "") return path.resolve(process.env.POLYKV_SQLITE_PATH || DEFAULT_PATH);
  try {
    rest = decodeURIComponent(rest);
  } catch {
    // a literal `%` in the name
  }
  return path.resolve(rest);
}

function test(input) {
  return (
    (typeof input === "string" && /^sqlite:/i.test(input)) ||
    (typeof input?.prepare === "function" && typeof input?.exec === "function")
  );
}

function create(input) {
  if (typeof input !== "string") return new SqliteClient(input);
  const { NativeStore } = addon("SQLITE");
  // Group commit: the writes of one tick are one transaction (lib/native-store.js).
  return new BatchingDriver("SQLITE", NativeStore.sqlite(sqlitePath(input)), NativeDriver.BYTES_CAPS);
}

const LIVE = "(expires_at IS NULL OR expires_at > ?)";
// The same promises as the native store: a write transaction is atomic across processes.
const CLIENT_CAPS = capabilities({ ordered: true, atomic: true, bytes: true });

/** A value as the database returned it: JSON text parsed, a BLOB (Buffer or Uint8Array) kept. */
function open(key, value) {
  if (value === undefined || value === null) return null;
  return typeof value === "object" ? value : decode("SQLITE", key, String(value));
}

/** What to bind for a stored form: text as it is, bytes as a Buffer (which every client binds as a BLOB). */
function bind(stored) {
  if (typeof stored === "string" || stored === null || typeof Buffer !== "function") return stored;
  return Buffer.isBuffer(stored) ? stored : Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
}

/** A deadline as the database returned it (polystore may have written a fraction): whole ms or null. */
function deadlineOf(value) {
  return value === null || value === undefined ? null : Math.ceil(Number(value));
}

/**
 * The same store over the user's own database object. Statements are prepared once
 * and reused. The object is not configured (its pragmas are the user's); only the
 * table and its index are created when missing, as polystore does.
 */
class SqliteClient {
  type = "SQLITE";
  caps = CLIENT_CAPS;
  #db;
  #statements = new Map();

  constructor(db) {
    this.#db = db;
    db.exec("CREATE TABLE IF NOT EXISTS kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)");
    // Partial, as the native store's (src/backend/sqlite.rs): a record without a deadline costs no index write.
    db.exec("CREATE INDEX IF NOT EXISTS idx_kv_expires_at ON kv (expires_at) WHERE expires_at IS NOT NULL");
  }

  #sql(text) {
    let statement = this.#statements.get(text);
    if (statement === undefined) {
      statement = this.#db.prepare(text);
      this.#statements.set(text, statement);
    }
    return statement;
  }

  get(key) {
    const row = this.#sql(`SELECT value FROM kv WHERE id = ? AND ${LIVE}`).get(key, Date.now());
    return row ? open(key, row.value) : null;
  }

  getRecord(key) {
    const row = this.#sql(`SELECT value, expires_at FROM kv WHERE id = ? AND ${LIVE}`).get(key, Date.now());
    return row ? { value: open(key, row.value), expiresAt: deadlineOf(row.expires_at) } : null;
  }

  set(key, stored, expiresAt) {
    this.#sql(
      "INSERT INTO kv (id, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
    ).run(key, bind(stored), expiresAt);
  }

  del(key) {
    this.#sql("DELETE FROM kv WHERE id = ?").run(key);
  }

  has(key) {
    return Boolean(this.#sql(`SELECT 1 AS found FROM kv WHERE id = ? AND ${LIVE}`).get(key, Date.now()));
  }

  /** Moves a live record's deadline alone: one UPDATE, the value not rewritten (docs/behaviour.md §32). */
  touch(key, expiresAt) {
    const done = this.#sql(`UPDATE kv SET expires_at = ? WHERE id = ? AND ${LIVE}`);
    return done.run(expiresAt, key, Date.now()).changes > 0;
  }

  /** The record as stored: JSON text or a BLOB's bytes; null when missing or expired. */
  getRaw(key) {
    const row = this.#sql(`SELECT value FROM kv WHERE id = ? AND ${LIVE}`).get(key, Date.now());
    return row ? row.value : null;
  }

  /** One statement each, as the native store (src/backend/sqlite.rs): atomic on its own. */
  swap(key, seen, next, expiresAt) {
    const now = Date.now();
    if (seen === null && next === null) {
      return !this.#sql(`SELECT 1 AS found FROM kv WHERE id = ? AND ${LIVE}`).get(key, now);
    }
    let result;
    if (seen === null) {
      result = this.#sql(
        "INSERT INTO kv (id, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at WHERE kv.expires_at IS NOT NULL AND kv.expires_at <= ?",
      ).run(key, bind(next), expiresAt ?? null, now);
    } else if (next === null) {
      result = this.#sql(`DELETE FROM kv WHERE id = ? AND value = ? AND ${LIVE}`).run(key, bind(seen), now);
    } else if (expiresAt === undefined) {
      result = this.#sql(`UPDATE kv SET value = ? WHERE id = ? AND value = ? AND ${LIVE}`).run(
        bind(next),
        key,
        bind(seen),
        now,
      );
    } else {
      result = this.#sql(`UPDATE kv SET value = ?, expires_at = ? WHERE id = ? AND value = ? AND ${LIVE}`).run(
        bind(next),
        expiresAt,
        key,
        bind(seen),
        now,
      );
    }
    return Number(result.changes) > 0;
  }

  /** One statement: DELETE … RETURNING. */
  getAndDelete(key) {
    const row = this.#sql(`DELETE FROM kv WHERE id = ? AND ${LIVE} RETURNING value`).get(key, Date.now());
    return row ? open(key, row.value) : null;
  }

  // `work` inside one transaction: committed when it returns, rolled back when it throws.
  #transaction(begin, work) {
    this.#db.exec(begin);
    let result;
    try {
      result = work();
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    this.#db.exec("COMMIT");
    return result;
  }

  /** One read transaction: the values from one snapshot. */
  getMany(keys) {
    const select = this.#sql(`SELECT value FROM kv WHERE id = ? AND ${LIVE}`);
    const now = Date.now();
    return this.#transaction("BEGIN", () =>
      keys.map((key) => {
        const row = select.get(key, now);
        return row ? open(key, row.value) : null;
      }),
    );
  }

  /** One write transaction: all or nothing. */
  setMany(writes) {
    this.#transaction("BEGIN IMMEDIATE", () => {
      for (const [key, stored, expiresAt] of writes) {
        if (stored === null) this.del(key);
        else this.set(key, stored, expiresAt);
      }
    });
  }

  delMany(keys) {
    this.#transaction("BEGIN IMMEDIATE", () => {
      for (const key of keys) this.del(key);
    });
  }

  // One page of rows in key order: a primary-key range scan, never LIKE.
  #page(prefix, after, limit, values) {
    const upper = prefixEnd(prefix);
    const exclusive = after !== null && after >= prefix;
    const sql = `SELECT id${values ? ", value, expires_at" : ""} FROM kv WHERE id ${exclusive ? ">" : ">="} ?${upper === null ? "" : " AND id < ?"} AND ${LIVE} ORDER BY id LIMIT ?`;
    const args = [exclusive ? after : prefix];
    if (upper !== null) args.push(upper);
    args.push(Date.now(), limit);
    return this.#sql(sql).all(...args);
  }

  *iterate(prefix = "", after = null) {
    for (;;) {
      const rows = this.#page(prefix, after, PAGE, true);
      for (const row of rows) yield [row.id, open(row.id, row.value), deadlineOf(row.expires_at)];
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1].id;
    }
  }

  keys(prefix = "") {
    const keys = [];
    let after = null;
    for (;;) {
      const rows = this.#page(prefix, after, 5000, false);
      for (const row of rows) keys.push(row.id);
      if (rows.length < 5000) return keys;
      after = rows[rows.length - 1].id;
    }
  }

  clear(prefix = "") {
    if (prefix === "") return void this.#sql("DELETE FROM kv").run();
    const upper = prefixEnd(prefix);
    if (upper === null) this.#sql("DELETE FROM kv WHERE id >= ?").run(prefix);
    else this.#sql("DELETE FROM kv WHERE id >= ? AND id < ?").run(prefix, upper);
  }

  prune() {
    this.#sql("DELETE FROM kv WHERE expires_at <= ?").run(Date.now());
  }

  close() {
    this.#statements.clear();
    this.#db.close?.();
  }
}

module.exports = { name: "SQLITE", test, create, sqlitePath, DEFAULT_PATH };

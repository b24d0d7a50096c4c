"use strict";
// SQLite, in two forms, both on polystore's table
//   kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)   -- Unix ms or NULL
// so one database file works with polykv, polystore and plain SQL:
// - a `sqlite:` URL string opens the database in Rust (rusqlite, src/backend/sqlite.rs):
//     kv("sqlite:///abs/path.db")  kv("sqlite:relative/path.db")  kv("sqlite::memory:")
//     kv("sqlite:")  the zero-config default: $POLYKV_SQLITE_PATH, else ./.polykv/store.db
// - a SQLite database object (better-sqlite3, node:sqlite DatabaseSync, bun:sqlite),
//   recognised by its `prepare()` and `exec()`, runs the same SQL through that object.

const path = require("node:path");
const { addon } = require("../addon.js");
const { prefixEnd } = require("../rules.js");
const { NativeDriver, PAGE } = require("../native-store.js");
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
  return new NativeDriver("SQLITE", NativeStore.sqlite(sqlitePath(input)));
}

const LIVE = "(expires_at IS NULL OR expires_at > ?)";

/**
 * The same store over the user's own database object. Statements are prepared once
 * and reused. The object is not configured (its pragmas are the user's); only the
 * table and its index are created when missing, as polystore does.
 */
class SqliteClient {
  type = "SQLITE";
  caps = NativeDriver.CAPS; // the same table, the same promises (a write transaction is atomic across processes)
  #db;
  #statements = new Map();

  constructor(db) {
    this.#db = db;
    db.exec("CREATE TABLE IF NOT EXISTS kv (id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER)");
    db.exec("CREATE INDEX IF NOT EXISTS idx_kv_expires_at ON kv (expires_at)");
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
    return row ? decode("SQLITE", key, String(row.value)) : null;
  }

  set(key, text, expiresAt) {
    this.#sql(
      "INSERT INTO kv (id, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
    ).run(key, text, expiresAt);
  }

  del(key) {
    this.#sql("DELETE FROM kv WHERE id = ?").run(key);
  }

  has(key) {
    return Boolean(this.#sql(`SELECT 1 AS found FROM kv WHERE id = ? AND ${LIVE}`).get(key, Date.now()));
  }

  // One page of rows in key order: a primary-key range scan, never LIKE.
  #page(prefix, after, limit, values) {
    const upper = prefixEnd(prefix);
    const exclusive = after !== null && after >= prefix;
    const sql = `SELECT id${values ? ", value" : ""} FROM kv WHERE id ${exclusive ? ">" : ">="} ?${upper === null ? "" : " AND id < ?"} AND ${LIVE} ORDER BY id LIMIT ?`;
    const args = [exclusive ? after : prefix];
    if (upper !== null) args.push(upper);
    args.push(Date.now(), limit);
    return this.#sql(sql).all(...args);
  }

  *iterate(prefix = "") {
    let after = null;
    for (;;) {
      const rows = this.#page(prefix, after, PAGE, true);
      for (const row of rows) yield [row.id, decode("SQLITE", row.id, String(row.value))];
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

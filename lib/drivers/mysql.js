"use strict";
// MYSQL: MySQL or MariaDB through the user's own client, recognised by shape (a
// `query`, an `execute` and an `escapeId`, which pg has not): a mysql2 Pool or
// Connection, callback or promise API, or a `mariadb` connector Pool or Connection.
// kv("mysql://…") and kv("mariadb://…") make a mysql2 pool from the app's own mysql2.
//
// Table (polystore has no MySQL store, so the shape is ours):
//   kv (id VARBINARY(3072) PRIMARY KEY, value LONGTEXT utf8mb4_bin NOT NULL,
//       expires_at BIGINT) + an index on expires_at
// `id` is the key's UTF-8 bytes: binary order is code-point order, whatever the
// server's or the connection's character set and collation, so a prefix listing is a
// primary-key range, prefix <= id < prefixEndBytes(prefix), never LIKE (`%`, `_`, `\`
// are plain bytes). `value` is the JSON text, readable with SQL and its JSON functions.
// Keys and values cross the wire as bytes (Buffers in, CAST … AS BINARY out), so a
// client whose connection character set is not utf8mb4 cannot mangle them.
// `expires_at` is a Unix time in ms on the server's clock: the time left (the deadline
// less the app's clock) is added to the server's UTC now, and reads compare with it,
// so app and database clocks need not agree (as in postgres.js). NULL never expires.
//
// Every statement goes through `execute`, the prepared-statement protocol of both
// clients: every value is a bound parameter, the table name is a constant, and each
// connection prepares a statement once. Writes are one `INSERT … ON DUPLICATE KEY
// UPDATE`. close() never ends a client the user passed (its pool is the app's); it
// ends only the pool polykv made for a URL.

const { capabilities, isThenable } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { prefixEndBytes, remainingMs } = require("../rules.js");
const { decode } = require("../json.js");
const { requirePeer } = require("../peer.js");

const TYPE = "MYSQL";
const CAPS = capabilities({ ordered: true, atomic: true });

// The longest index key InnoDB takes (DYNAMIC rows): the longest key, in UTF-8 bytes,
// of a table we create. On a table made otherwise, its own id length is the limit.
const MAX_KEY_BYTES = 3072;
const PAGE = 500; // rows per page when iterating, so memory stays flat

// The server's clock as Unix ms: TIMESTAMPDIFF on UTC needs no time zone, unlike
// UNIX_TIMESTAMP(NOW(3)), which is an hour off around a daylight-saving change.
const NOW_MS = "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', UTC_TIMESTAMP(3)) DIV 1000)";
const LIVE = `(expires_at IS NULL OR expires_at > ${NOW_MS})`;
const SQL = {
  database: "SELECT DATABASE() AS name",
  create: `CREATE TABLE IF NOT EXISTS kv (
    id VARBINARY(${MAX_KEY_BYTES}) NOT NULL PRIMARY KEY,
    value LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    expires_at BIGINT NULL,
    INDEX idx_kv_expires_at (expires_at)
  ) ENGINE=InnoDB ROW_FORMAT=DYNAMIC`,
  id: `SELECT DATA_TYPE AS type, CHARACTER_MAXIMUM_LENGTH AS length FROM information_schema.COLUMNS
    WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'kv' AND COLUMN_NAME = 'id'`,
  get: `SELECT CAST(value AS BINARY) AS value FROM kv WHERE id = ? AND ${LIVE}`,
  has: `SELECT 1 AS found FROM kv WHERE id = ? AND ${LIVE}`,
  set: `INSERT INTO kv (id, value, expires_at) VALUES (?, ?, ${NOW_MS} + ?)
    ON DUPLICATE KEY UPDATE value = VALUES(value), expires_at = VALUES(expires_at)`,
  del: "DELETE FROM kv WHERE id = ?",
};

// `AND id in [prefix, prefixEndBytes(prefix))` and its parameters; `after` replaces
// the lower bound (a page cursor, exclusive).
function range(prefix, after) {
  const sql = [];
  const params = [];
  if (after !== undefined) {
    sql.push("id > ?");
    params.push(after);
  } else if (prefix) {
    sql.push("id >= ?");
    params.push(Buffer.from(prefix));
  }
  const end = prefix ? prefixEndBytes(prefix) : null;
  if (end !== null) {
    sql.push("id < ?");
    params.push(end);
  }
  return { sql: sql.map((part) => ` AND ${part}`).join(""), params };
}

// A column read as bytes comes back as a Buffer (a custom typeCast may make it a string).
const text = (data) => (typeof data === "string" ? data : data.toString("utf8"));

// Rows as objects by column name, whatever the app set on its client: rowsAsArray,
// nestTables and (mariadb) metaAsArray change the shape of every answer, so each
// statement asks for plain rows. mysql2 spends ~15 µs of CPU more on a statement given
// as an options object (measured), so there it is one only when the client needs it.
const ROWS = { rowsAsArray: false, nestTables: false };
const MARIADB_ROWS = { ...ROWS, metaAsArray: false };

/**
 * run(sql, params) → the rows of a SELECT, or the client's OK packet, for every client:
 * mysql2's promise API answers [rows, fields]; its callback API has a promise() view
 * of the same pool or connection; the mariadb connector answers the rows, by promise,
 * or by callback for its callback API (the same shape: the first call tells which).
 */
function runner(client) {
  if (typeof client.batch === "function") {
    let promises = false;
    return (sql, params) => {
      const query = { sql, ...MARIADB_ROWS };
      if (promises) return client.execute(query, params);
      return new Promise((resolve, reject) => {
        const pending = client.execute(query, params, (error, rows) => (error ? reject(error) : resolve(rows)));
        promises = isThenable(pending);
        if (promises) pending.then(resolve, reject);
      });
    };
  }
  const promised = typeof client.promise === "function" ? client.promise() : client;
  const config = promised.pool?.config?.connectionConfig ?? promised.connection?.config ?? {};
  if (config.rowsAsArray || config.nestTables) {
    return async (sql, params) => (await promised.execute({ sql, ...ROWS }, params))[0];
  }
  return async (sql, params) => (await promised.execute(sql, params))[0];
}

class MysqlDriver {
  type = TYPE;
  caps = CAPS;
  #client;
  #owned; // a pool polykv made for a URL: close() ends it
  #run;
  #maxKey = MAX_KEY_BYTES;

  constructor(client, owned) {
    this.#client = client;
    this.#owned = owned;
    this.#run = runner(client);
  }

  async connect() {
    const [{ name }] = await this.#run(SQL.database, []);
    if (name === null || name === undefined) {
      throw polykvError(
        "ERR_POLYKV_CLIENT",
        TYPE,
        "the client has no database selected: name one in its options ({ database }) or its URL (mysql://host/db)",
      );
    }
    await this.#run(SQL.create, []);
    const [id] = await this.#run(SQL.id, []);
    // Binary order is what makes the prefix range exact; a kv table of someone else's
    // with a text id (a case-insensitive collation) would list and order wrongly.
    if (!id || !/binary$/i.test(id.type)) {
      throw polykvError(
        "ERR_POLYKV_BACKEND",
        TYPE,
        `the table kv in database ${name} has an id column of type ${id ? id.type : "(none)"}; polykv needs VARBINARY (byte order): use another database, or drop that table`,
      );
    }
    this.#maxKey = Number(id.length);
  }

  // The key's UTF-8 bytes, or a clear error before any query when it cannot be stored.
  #id(key) {
    const bytes = Buffer.from(key);
    if (bytes.length > this.#maxKey) {
      throw polykvError(
        "ERR_POLYKV_KEY",
        TYPE,
        `the key ${JSON.stringify(key.slice(0, 40))}… is ${bytes.length} bytes of UTF-8; the kv table holds keys of at most ${this.#maxKey} bytes`,
      );
    }
    return bytes;
  }

  async get(key) {
    const rows = await this.#run(SQL.get, [this.#id(key)]);
    return rows.length ? decode(TYPE, key, text(rows[0].value)) : null;
  }

  async set(key, json, expiresAt) {
    await this.#run(SQL.set, [this.#id(key), Buffer.from(json), remainingMs(expiresAt)]);
  }

  async has(key) {
    return (await this.#run(SQL.has, [this.#id(key)])).length > 0;
  }

  async del(key) {
    await this.#run(SQL.del, [this.#id(key)]);
  }

  async *iterate(prefix = "") {
    let after;
    for (;;) {
      const where = range(prefix, after);
      const rows = await this.#run(
        `SELECT id, CAST(value AS BINARY) AS value FROM kv WHERE ${LIVE}${where.sql} ORDER BY id LIMIT ${PAGE}`,
        where.params,
      );
      for (const row of rows) {
        const key = text(row.id);
        yield [key, decode(TYPE, key, text(row.value))];
      }
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1].id;
    }
  }

  // Every live row under `prefix`, in key (byte) order: the primary key's own order.
  async #select(columns, prefix) {
    const where = range(prefix);
    return this.#run(`SELECT ${columns} FROM kv WHERE ${LIVE}${where.sql} ORDER BY id`, where.params);
  }

  async keys(prefix = "") {
    return (await this.#select("id", prefix)).map((row) => text(row.id));
  }

  async entries(prefix = "") {
    const rows = await this.#select("id, CAST(value AS BINARY) AS value", prefix);
    return rows.map((row) => {
      const key = text(row.id);
      return [key, decode(TYPE, key, text(row.value))];
    });
  }

  async values(prefix = "") {
    const rows = await this.#select("id, CAST(value AS BINARY) AS value", prefix);
    return rows.map((row) => decode(TYPE, text(row.id), text(row.value)));
  }

  async clear(prefix = "") {
    const where = range(prefix);
    await this.#run(`DELETE FROM kv WHERE TRUE${where.sql}`, where.params);
  }

  async prune(prefix = "") {
    const where = range(prefix);
    await this.#run(`DELETE FROM kv WHERE expires_at <= ${NOW_MS}${where.sql}`, where.params);
  }

  async close() {
    if (this.#owned) await this.#client.end();
  }
}

const URL_SCHEME = /^(mysql|mariadb):\/\//i;

// The href of a mysql:// or mariadb:// string or URL, or null.
function mysqlUrl(input) {
  const href = input instanceof URL ? input.href : input;
  return typeof href === "string" && URL_SCHEME.test(href) ? href : null;
}

function isMysqlClient(input) {
  return Boolean(
    input &&
    typeof input === "object" &&
    typeof input.query === "function" &&
    typeof input.execute === "function" &&
    typeof input.escapeId === "function",
  );
}

module.exports = {
  name: TYPE,
  test: (input) => mysqlUrl(input) !== null || isMysqlClient(input),
  create(input) {
    const url = mysqlUrl(input);
    if (url === null) return new MysqlDriver(input, false);
    const scheme = url.slice(0, url.indexOf(":") + 1).toLowerCase();
    const mysql = requirePeer("mysql2/promise", TYPE, scheme);
    return new MysqlDriver(mysql.createPool(url), true);
  },
};

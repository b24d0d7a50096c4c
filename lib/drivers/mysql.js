"use strict";
// MYSQL: MySQL or MariaDB through the user's own client, recognised by shape (a
// `query`, an `execute` and an `escapeId`, which pg has not): a mysql2 Pool or
// Connection, callback or promise API, or a `mariadb` connector Pool or Connection.
// kv("mysql://…") and kv("mariadb://…") make a mysql2 pool from the app's own mysql2.
//
// Table (polystore has no MySQL store, so the shape is ours):
//   kv (id VARBINARY(3072) PRIMARY KEY, value LONGTEXT utf8mb4_bin NOT NULL,
//       expires_at BIGINT, value_bytes LONGBLOB) + an index on expires_at
// `id` is the key's UTF-8 bytes: binary order is code-point order, whatever the
// server's or the connection's character set and collation, so a prefix listing is a
// primary-key range, prefix <= id < prefixEndBytes(prefix), never LIKE (`%`, `_`, `\`
// are plain bytes). `value` is the JSON text, readable with SQL and its JSON functions.
// A binary value is kept as it is in `value_bytes` (then `value` is '', which no JSON
// text is); `value_bytes` is NULL on every JSON record. A table made before binary
// values gets the column at connect (ALTER TABLE … ADD COLUMN, instant on InnoDB):
// its rows read as before.
// Keys and values cross the wire as bytes (Buffers in, CAST … AS BINARY out), so a
// client whose connection character set is not utf8mb4 cannot mangle them.
// `expires_at` is a Unix time in ms on the server's clock: the time left (the deadline
// less the app's clock) is added to the server's UTC now, and reads compare with it,
// so app and database clocks need not agree (as in postgres.js). NULL never expires.
// A deadline read back (getRecord, list) is `expires_at` less the clocks' offset,
// measured once at connect: the same record always reads the same deadline.
//
// Every statement goes through `execute`, the prepared-statement protocol of both
// clients: every value is a bound parameter, the table name is a constant, and each
// connection prepares a statement once. Writes are one `INSERT … ON DUPLICATE KEY
// UPDATE`. close() never ends a client the user passed (its pool is the app's); it
// ends only the pool polykv made for a URL.
//
// Atomic across processes: swap (cas) is one conditional UPDATE or DELETE, or an
// INSERT that fails on a live row; touch is one UPDATE of expires_at. On a pool,
// increment and getAndDelete are a transaction on one of its connections (SELECT …
// FOR UPDATE, then the write), and setMany is one transaction; on MariaDB
// getAndDelete is one DELETE … RETURNING. A single Connection shared by concurrent
// calls cannot hold a transaction for one of them, so there increment and (MySQL)
// getAndDelete retry over swap, and setMany's statements run one after another.

const { capabilities, isThenable } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { prefixEndBytes, remainingMs } = require("../rules.js");
const { decode, encode } = require("../json.js");
const { requirePeer } = require("../peer.js");
const { openValue } = require("../record.js");
const atomic = require("../atomic.js");

const TYPE = "MYSQL";
const CAPS = capabilities({ ordered: true, atomic: true, bytes: true });

// The longest index key InnoDB takes (DYNAMIC rows): the longest key, in UTF-8 bytes,
// of a table we create. On a table made otherwise, its own id length is the limit.
const MAX_KEY_BYTES = 3072;
// Rows per page when iterating, so memory stays flat: a list() page of up to 1000
// keys and the one that tells there are more is a single range read.
const PAGE = 1001;
// Bulk statements take at most this many keys, padded to a power of two (a repeated
// key changes nothing), so a connection prepares a few statements, not one per size.
const BULK = 512;
// The server's error numbers we act on.
const ER_DUP_ENTRY = 1062;
const ER_DUP_FIELDNAME = 1060;
const ER_LOCK_DEADLOCK = 1213;

// The server's clock as Unix ms: TIMESTAMPDIFF on UTC needs no time zone, unlike
// UNIX_TIMESTAMP(NOW(3)), which is an hour off around a daylight-saving change.
const NOW_MS = "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', UTC_TIMESTAMP(3)) DIV 1000)";
const LIVE = `(expires_at IS NULL OR expires_at > ${NOW_MS})`;
// The stored form as read: the JSON text as bytes, the binary value, and (records) the
// deadline on the server's clock (NULL: never expires).
const READ = "CAST(value AS BINARY) AS value, value_bytes AS bin";
const RECORD = `${READ}, expires_at`;
// Whether a row still holds what getRaw() handed out: text compared as bytes (the
// column's collation pads spaces), a binary value as bytes.
const SAME_TEXT = "value_bytes IS NULL AND CAST(value AS BINARY) = ?";
const SAME_BYTES = "value_bytes = ?";
const SQL = {
  database: "SELECT DATABASE() AS name, VERSION() AS version, @@max_allowed_packet AS packet",
  now: `SELECT ${NOW_MS} AS now`,
  create: `CREATE TABLE IF NOT EXISTS kv (
    id VARBINARY(${MAX_KEY_BYTES}) NOT NULL PRIMARY KEY,
    value LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    expires_at BIGINT NULL,
    value_bytes LONGBLOB NULL,
    INDEX idx_kv_expires_at (expires_at)
  ) ENGINE=InnoDB ROW_FORMAT=DYNAMIC`,
  columns: `SELECT COLUMN_NAME AS name, DATA_TYPE AS type, CHARACTER_MAXIMUM_LENGTH AS length
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'kv'`,
  addBytes: "ALTER TABLE kv ADD COLUMN value_bytes LONGBLOB NULL",
  get: `SELECT ${READ} FROM kv WHERE id = ? AND ${LIVE}`,
  record: `SELECT ${RECORD} FROM kv WHERE id = ? AND ${LIVE}`,
  has: `SELECT 1 AS found FROM kv WHERE id = ? AND ${LIVE}`,
  set: `INSERT INTO kv (id, value, value_bytes, expires_at) VALUES (?, ?, ?, ${NOW_MS} + ?)
    ON DUPLICATE KEY UPDATE value = VALUES(value), value_bytes = VALUES(value_bytes), expires_at = VALUES(expires_at)`,
  del: "DELETE FROM kv WHERE id = ?",
  // swap: an insert fails on any row with that id; an expired one is then replaced.
  insert: `INSERT INTO kv (id, value, value_bytes, expires_at) VALUES (?, ?, ?, ${NOW_MS} + ?)`,
  replaceExpired: `UPDATE kv SET value = ?, value_bytes = ?, expires_at = ${NOW_MS} + ?
    WHERE id = ? AND expires_at <= ${NOW_MS}`,
  touch: `UPDATE kv SET expires_at = ${NOW_MS} + ? WHERE id = ? AND ${LIVE}`,
  // In a transaction: the row, live or not, locked until commit.
  lock: `SELECT ${READ}, ${LIVE} AS live FROM kv WHERE id = ? FOR UPDATE`,
  update: "UPDATE kv SET value = ?, value_bytes = ? WHERE id = ?",
  take: `DELETE FROM kv WHERE id = ? AND ${LIVE} RETURNING ${READ}`,
};
// swap's conditional writes, by what was seen (text or bytes) and whether the deadline is kept.
const SWAP = {};
for (const [seen, same] of [
  ["text", SAME_TEXT],
  ["bytes", SAME_BYTES],
]) {
  SWAP[`${seen}:delete`] = `DELETE FROM kv WHERE id = ? AND ${same} AND ${LIVE}`;
  SWAP[`${seen}:keep`] = `UPDATE kv SET value = ?, value_bytes = ? WHERE id = ? AND ${same} AND ${LIVE}`;
  SWAP[`${seen}:expire`] = `UPDATE kv SET value = ?, value_bytes = ?, expires_at = ${NOW_MS} + ?
    WHERE id = ? AND ${same} AND ${LIVE}`;
  SWAP[`${seen}:check`] = `SELECT 1 AS found FROM kv WHERE id = ? AND ${same} AND ${LIVE}`;
}

// `(?, ?, …)` for n parameters.
const marks = (n) => `(${Array(n).fill("?").join(", ")})`;
// The smallest power of two from n (at most BULK): a bulk statement's size.
const bucket = (n) => Math.min(BULK, 2 ** Math.ceil(Math.log2(Math.max(1, n))));
// `items` padded to `size` by repeating the last one.
const padded = (items, size) => items.concat(Array(size - items.length).fill(items[items.length - 1]));
const chunks = (items, size) =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

// `AND id in [prefix, prefixEndBytes(prefix))` and its parameters; `after` (a key or
// a row's id) is a further, exclusive, lower bound (a page cursor).
function range(prefix, after) {
  const sql = [];
  const params = [];
  if (prefix) {
    sql.push("id >= ?");
    params.push(Buffer.from(prefix));
  }
  if (after !== undefined && after !== null) {
    sql.push("id > ?");
    params.push(typeof after === "string" ? Buffer.from(after) : after);
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

// A row's stored form, as getRaw() hands it out and swap() compares it: the JSON text,
// or the bytes of a binary value.
const raw = (row) => (row.bin === null || row.bin === undefined ? text(row.value) : row.bin);
// A stored form as get() reads it: the parsed JSON, or the bytes.
const parsed = (key, stored) => (typeof stored === "string" ? decode(TYPE, key, stored) : stored);
// How many clock samples connect() takes: the quickest round trip tells the offset best.
const CLOCK_SAMPLES = 3;

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

/**
 * For a pool: take(), a connection of its own as `{ run, query, release }` (`query`
 * runs a statement on the text protocol: MySQL prepares no START TRANSACTION); null
 * for a single connection, which cannot give one caller a transaction of its own.
 */
function connections(client) {
  if (typeof client.getConnection !== "function") return null;
  if (typeof client.batch !== "function") {
    const pool = typeof client.promise === "function" ? client.promise() : client;
    return async () => {
      const connection = await pool.getConnection();
      return {
        run: runner(connection),
        query: (sql) => connection.query(sql),
        release: () => connection.release(),
      };
    };
  }
  // mariadb: the promise API's pool answers by promise, the callback API's calls back.
  return async () => {
    let promises = false;
    const connection = await new Promise((resolve, reject) => {
      const pending = client.getConnection((error, got) => (error ? reject(error) : resolve(got)));
      promises = isThenable(pending);
      if (promises) pending.then(resolve, reject);
    });
    const call = (method, ...args) =>
      promises
        ? connection[method](...args)
        : new Promise((resolve, reject) =>
            connection[method](...args, (error, result) => (error ? reject(error) : resolve(result))),
          );
    return { run: runner(connection), query: (sql) => call("query", sql), release: () => call("release") };
  };
}

// Deadlocks a transaction retries: two that lock the gap where a new key goes both
// wait on the other's insert, and InnoDB undoes one of them.
const MAX_DEADLOCKS = 100;

// Whether two stored forms (JSON text, or bytes) are the same.
function sameStored(a, b) {
  if (typeof a === "string" || typeof b === "string") return a === b;
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

class MysqlDriver {
  type = TYPE;
  caps = CAPS;
  #client;
  #owned; // a pool polykv made for a URL: close() ends it
  #run;
  #take; // a pool's connection for a transaction, or null on a single connection
  #maxKey = MAX_KEY_BYTES;
  #maxValue = Infinity; // the server's max_allowed_packet, less room for the key and statement
  #mariadb = false; // the server has DELETE … RETURNING
  #offset = 0; // the server's clock less the app's, in ms

  constructor(client, owned) {
    this.#client = client;
    this.#owned = owned;
    this.#run = runner(client);
    this.#take = connections(client);
  }

  async connect() {
    const [{ name, version, packet }] = await this.#run(SQL.database, []);
    if (name === null || name === undefined) {
      throw polykvError(
        "ERR_POLYKV_CLIENT",
        TYPE,
        "the client has no database selected: name one in its options ({ database }) or its URL (mysql://host/db)",
      );
    }
    this.#mariadb = /mariadb/i.test(String(version));
    this.#maxValue = Number(packet) - MAX_KEY_BYTES - 1024;
    await this.#run(SQL.create, []);
    const columns = await this.#run(SQL.columns, []);
    const id = columns.find((column) => text(column.name) === "id");
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
    await this.#measureClock();
    if (!columns.some((column) => text(column.name) === "value_bytes")) {
      // A table made before binary values (another process may be adding it too).
      await this.#run(SQL.addBytes, []).catch((error) => {
        if (error?.errno !== ER_DUP_FIELDNAME) throw error;
      });
    }
  }

  // The offset of the server's clock from the app's, at the quickest of a few round trips.
  async #measureClock() {
    let best = Infinity;
    for (let i = 0; i < CLOCK_SAMPLES; i++) {
      const sent = Date.now();
      const [{ now }] = await this.#run(SQL.now, []);
      const received = Date.now();
      if (received - sent < best) {
        best = received - sent;
        this.#offset = Number(now) - Math.round((sent + received) / 2);
      }
    }
  }

  // A row's expires_at (a number, a BigInt or a string, as the client reads BIGINT) on
  // the app's clock, or null.
  #deadline(expiresAt) {
    return expiresAt === null || expiresAt === undefined ? null : Number(expiresAt) - this.#offset;
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

  // The `value` and `value_bytes` parameters of a stored form (JSON text or bytes), or
  // a clear error when the server would refuse the statement (and drop the connection).
  #columns(key, stored) {
    const columns =
      typeof stored === "string"
        ? [Buffer.from(stored), null]
        : ["", Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)];
    const size = (columns[1] ?? columns[0]).length;
    if (size > this.#maxValue) {
      throw polykvError(
        "ERR_POLYKV_VALUE",
        TYPE,
        `cannot store the value for key ${JSON.stringify(key)}: ${size} bytes is over what the server takes in one statement (its max_allowed_packet allows ${this.#maxValue}); raise max_allowed_packet`,
      );
    }
    return columns;
  }

  // The row's stored form, null when missing or expired.
  async getRaw(key) {
    const rows = await this.#run(SQL.get, [this.#id(key)]);
    return rows.length ? raw(rows[0]) : null;
  }

  async get(key) {
    const stored = await this.getRaw(key);
    return stored === null ? null : parsed(key, stored);
  }

  async getRecord(key) {
    const rows = await this.#run(SQL.record, [this.#id(key)]);
    if (!rows.length) return null;
    return { value: parsed(key, raw(rows[0])), expiresAt: this.#deadline(rows[0].expires_at) };
  }

  async set(key, stored, expiresAt) {
    await this.#run(SQL.set, [this.#id(key), ...this.#columns(key, stored), remainingMs(expiresAt)]);
  }

  async has(key) {
    return (await this.#run(SQL.has, [this.#id(key)])).length > 0;
  }

  async del(key) {
    await this.#run(SQL.del, [this.#id(key)]);
  }

  async swap(key, seen, next, expiresAt) {
    const id = this.#id(key);
    if (seen === null) {
      if (next === null) return !(await this.has(key));
      const [value, bin] = this.#columns(key, next);
      const remaining = remainingMs(expiresAt ?? null);
      try {
        await this.#run(SQL.insert, [id, value, bin, remaining]);
        return true;
      } catch (error) {
        if (error?.errno !== ER_DUP_ENTRY) throw error;
      }
      // A row is there: replace it only if it has expired (its deadline moves, so the
      // row counts as changed whatever the client's CLIENT_FOUND_ROWS).
      return (await this.#run(SQL.replaceExpired, [value, bin, remaining, id])).affectedRows > 0;
    }
    const kind = typeof seen === "string" ? "text" : "bytes";
    const same = typeof seen === "string" ? Buffer.from(seen) : seen;
    if (next === null) return (await this.#run(SWAP[`${kind}:delete`], [id, same])).affectedRows > 0;
    const [value, bin] = this.#columns(key, next);
    const result =
      expiresAt === undefined
        ? await this.#run(SWAP[`${kind}:keep`], [value, bin, id, same])
        : await this.#run(SWAP[`${kind}:expire`], [value, bin, remainingMs(expiresAt), id, same]);
    if (result.affectedRows > 0) return true;
    // A client without CLIENT_FOUND_ROWS counts changed rows only: a swap to the very
    // same record changes none, and succeeded if the record is still the one seen.
    return sameStored(seen, next) && (await this.#run(SWAP[`${kind}:check`], [id, same])).length > 0;
  }

  async touch(key, expiresAt) {
    const result = await this.#run(SQL.touch, [remainingMs(expiresAt), this.#id(key)]);
    // Without CLIENT_FOUND_ROWS a deadline set to what it was counts no row.
    return result.affectedRows > 0 || this.has(key);
  }

  // `task(run)` in a transaction on one of the pool's connections, retried on deadlock.
  async #transaction(task) {
    for (let tries = 1; ; tries++) {
      const connection = await this.#take();
      try {
        await connection.query("START TRANSACTION");
        const result = await task(connection.run);
        await connection.query("COMMIT");
        return result;
      } catch (error) {
        await connection.query("ROLLBACK").catch(() => {});
        if (error?.errno !== ER_LOCK_DEADLOCK || tries >= MAX_DEADLOCKS) throw error;
      } finally {
        await connection.release();
      }
    }
  }

  async increment(key, by, expiresAt) {
    const read = (stored) => openValue(parsed(key, stored), TYPE);
    if (this.#take === null) {
      return atomic.incrementBySwap(this, key, key, by, expiresAt, read, (number) => encode(key, number));
    }
    const id = this.#id(key);
    const absent = Symbol("absent");
    for (;;) {
      const result = await this.#transaction(async (run) => {
        const [row] = await run(SQL.lock, [id]);
        if (row === undefined) return absent;
        const live = Number(row.live) === 1;
        const current = live ? read(raw(row)) : null;
        if (current !== null && typeof current !== "number") throw atomic.notANumber(key, current);
        const value = atomic.sum(key, current, by);
        const json = Buffer.from(encode(key, value));
        // A live record keeps its deadline; one over an expired row takes the caller's.
        if (live) await run(SQL.update, [json, null, id]);
        else await run(SQL.set, [id, json, null, remainingMs(expiresAt)]);
        return value;
      });
      if (result !== absent) return result;
      // No row: a plain INSERT, outside any transaction. Inserting inside the one that
      // found no row would hold a gap lock every other new-key increment holds too,
      // and each one's insert would deadlock on the others' (a livelock under load).
      const value = atomic.sum(key, null, by);
      try {
        await this.#run(SQL.insert, [id, Buffer.from(encode(key, value)), null, remainingMs(expiresAt)]);
        return value;
      } catch (error) {
        if (error?.errno !== ER_DUP_ENTRY) throw error; // another caller made it first: lock it now
      }
    }
  }

  async getAndDelete(key) {
    const id = this.#id(key);
    if (this.#mariadb) {
      const rows = await this.#run(SQL.take, [id]);
      return rows.length ? parsed(key, raw(rows[0])) : null;
    }
    if (this.#take === null) return atomic.takeBySwap(this, key, (stored) => parsed(key, stored));
    return this.#transaction(async (run) => {
      const [row] = await run(SQL.lock, [id]);
      if (row === undefined || Number(row.live) !== 1) return null;
      await run(SQL.del, [id]);
      return parsed(key, raw(row));
    });
  }

  async getMany(keys) {
    const ids = keys.map((key) => this.#id(key));
    const found = new Map();
    const unique = [...new Map(ids.map((id) => [text(id), id])).values()];
    await Promise.all(
      chunks(unique, BULK).map(async (part) => {
        const size = bucket(part.length);
        const rows = await this.#run(
          `SELECT id, ${READ} FROM kv WHERE id IN ${marks(size)} AND ${LIVE}`,
          padded(part, size),
        );
        for (const row of rows) found.set(text(row.id), row);
      }),
    );
    return keys.map((key, i) => {
      const row = found.get(text(ids[i]));
      return row === undefined ? null : parsed(key, raw(row));
    });
  }

  async delMany(keys) {
    const unique = [...new Map(keys.map((key) => [key, this.#id(key)])).values()];
    await Promise.all(chunks(unique, BULK).map((part) => this.#run(...this.#deleteIn(part))));
  }

  #deleteIn(ids) {
    const size = bucket(ids.length);
    return [`DELETE FROM kv WHERE id IN ${marks(size)}`, padded(ids, size)];
  }

  async setMany(writes) {
    // The last write of a key wins, whether a set or a delete.
    const last = new Map();
    for (const [key, stored, expiresAt] of writes) {
      const id = this.#id(key);
      last.set(text(id), stored === null ? [id] : [id, ...this.#columns(key, stored), remainingMs(expiresAt)]);
    }
    const rows = [...last.values()].filter((row) => row.length > 1);
    const gone = [...last.values()].filter((row) => row.length === 1).map(([id]) => id);
    const statements = [...this.#upserts(rows), ...chunks(gone, BULK).map((part) => this.#deleteIn(part))];
    if (this.#take === null || statements.length <= 1) {
      for (const [sql, params] of statements) await this.#run(sql, params);
      return;
    }
    await this.#transaction(async (run) => {
      for (const [sql, params] of statements) await run(sql, params);
    });
  }

  // Multi-row upserts of [id, value, bytes, remaining] rows, each under the server's packet size.
  #upserts(rows) {
    const statements = [];
    let part = [];
    let bytes = 0;
    const flush = () => {
      if (!part.length) return;
      const size = bucket(part.length);
      const values = Array(size).fill(`(?, ?, ?, ${NOW_MS} + ?)`).join(", ");
      statements.push([
        `INSERT INTO kv (id, value, value_bytes, expires_at) VALUES ${values}
          ON DUPLICATE KEY UPDATE value = VALUES(value), value_bytes = VALUES(value_bytes), expires_at = VALUES(expires_at)`,
        padded(part, size).flat(),
      ]);
      part = [];
      bytes = 0;
    };
    for (const row of rows) {
      const size = row[0].length + row[1].length + (row[2]?.length ?? 0);
      if (part.length === BULK || (part.length && bytes + size > this.#maxValue / 2)) flush();
      part.push(row);
      bytes += size;
    }
    flush();
    return statements;
  }

  async *iterate(prefix = "", after) {
    let cursor = after;
    for (;;) {
      const where = range(prefix, cursor);
      const rows = await this.#run(
        `SELECT id, ${RECORD} FROM kv WHERE ${LIVE}${where.sql} ORDER BY id LIMIT ${PAGE}`,
        where.params,
      );
      for (const row of rows) {
        const key = text(row.id);
        yield [key, parsed(key, raw(row)), this.#deadline(row.expires_at)];
      }
      if (rows.length < PAGE) return;
      cursor = rows[rows.length - 1].id;
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
    const rows = await this.#select(`id, ${READ}`, prefix);
    return rows.map((row) => {
      const key = text(row.id);
      return [key, parsed(key, raw(row))];
    });
  }

  async values(prefix = "") {
    const rows = await this.#select(`id, ${READ}`, prefix);
    return rows.map((row) => parsed(text(row.id), raw(row)));
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

// Bench rows for MySQL / MariaDB, against the server in POLYKV_TEST_MYSQL_URL. polystore
// has no MySQL store, so the second column ("polystore" in the table) is a loop written
// straight on the same client doing the same work: the same table, the same statements
// through execute() (prepared, parameters bound), JSON.stringify / JSON.parse, expiry on
// the server's clock. The ratio is what polykv's store layer costs (or saves) over it.
//   mysql2 Pool (8)    mysql2/promise createPool, 8 connections, each side its own
//   mariadb Pool (8)   the mariadb connector's pool, 8 connections, each side its own
// Each side has its own database (bench_polykv, bench_loop), so each uses its own `kv`
// table and clearing one never touches the other. 2 000 keys per pass, as for Postgres.
//
// `node bench/mysql.mjs` alone measures the data model on a mysql2 pool instead:
// getWithMetadata() beside get() (the deadline read back), and getMany() of 100 keys
// (one IN statement) beside 100 get() awaited in turn and 100 get() in flight at once.
import mysql from "mysql2/promise";
import mariadb from "mariadb";
import polykv from "../index.js";
import { measure, median, dataset } from "./lib.mjs";

const N = Number(process.env.POLYKV_BENCH_MYSQL_KEYS) || 2000;
const DATABASES = ["bench_polykv", "bench_loop"];

const NOW_MS = "(TIMESTAMPDIFF(MICROSECOND, '1970-01-01', UTC_TIMESTAMP(3)) DIV 1000)";
const LIVE = `(expires_at IS NULL OR expires_at > ${NOW_MS})`;
const SQL = {
  create: `CREATE TABLE IF NOT EXISTS kv (id VARBINARY(3072) NOT NULL PRIMARY KEY,
    value LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL, expires_at BIGINT NULL,
    INDEX idx_kv_expires_at (expires_at)) ENGINE=InnoDB`,
  set: `INSERT INTO kv (id, value, expires_at) VALUES (?, ?, NULL)
    ON DUPLICATE KEY UPDATE value = VALUES(value), expires_at = VALUES(expires_at)`,
  get: `SELECT value FROM kv WHERE id = ? AND ${LIVE}`,
  has: `SELECT 1 AS found FROM kv WHERE id = ? AND ${LIVE}`,
  del: "DELETE FROM kv WHERE id = ?",
  clear: "DELETE FROM kv",
};

// The same work written on the client directly, shaped like a store for the harness.
// `run(sql, params)` → rows; the table is made before the first pass.
async function loop(run, end) {
  await run(SQL.create, []);
  return {
    set: (key, value) => run(SQL.set, [key, JSON.stringify(value)]),
    get: async (key) => {
      const rows = await run(SQL.get, [key]);
      return rows.length ? JSON.parse(rows[0].value) : null;
    },
    has: async (key) => (await run(SQL.has, [key])).length > 0,
    del: (key) => run(SQL.del, [key]),
    clear: () => run(SQL.clear, []),
    close: end,
  };
}

function withDatabase(url, name) {
  const copy = new URL(url);
  copy.pathname = `/${name}`;
  return copy;
}

function mariadbOptions(url) {
  return {
    host: url.hostname,
    port: Number(url.port) || 3306,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: url.pathname.slice(1),
    connectionLimit: 8,
  };
}

export default async function mysqlRows({ wants }) {
  const url = process.env.POLYKV_TEST_MYSQL_URL;
  const skip = url ? undefined : "set POLYKV_TEST_MYSQL_URL (source .ci/services.sh start)";
  if (url && wants("mysql")) {
    const admin = await mysql.createConnection(url);
    for (const name of DATABASES) {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
    }
    await admin.end();
  }
  const mysql2Pool = (name) => mysql.createPool({ uri: withDatabase(url, name).href, connectionLimit: 8 });
  const mariadbPool = (name) => mariadb.createPool(mariadbOptions(withDatabase(url, name)));
  // close() leaves a pool the app passed open: the bench ends it.
  const ours = (pool) => {
    const store = polykv(pool);
    return Object.assign(store, { close: () => pool.end() });
  };
  return [
    {
      name: "mysql2 Pool (8) vs a mysql2 loop",
      group: "mysql",
      n: N,
      skip,
      polykv: () => ours(mysql2Pool("bench_polykv")),
      polystore: () => {
        const pool = mysql2Pool("bench_loop");
        return loop(
          async (sql, params) => (await pool.execute(sql, params))[0],
          () => pool.end(),
        );
      },
    },
    {
      name: "mariadb Pool (8) vs a mariadb loop",
      group: "mysql",
      n: N,
      skip,
      polykv: () => ours(mariadbPool("bench_polykv")),
      polystore: () => {
        const pool = mariadbPool("bench_loop");
        return loop(
          (sql, params) => pool.execute(sql, params),
          () => pool.end(),
        );
      },
    },
  ];
}

// The data-model bench (run directly): each figure the median of RUNS passes.
async function dataModel() {
  const url = process.env.POLYKV_TEST_MYSQL_URL;
  if (!url) throw new Error("set POLYKV_TEST_MYSQL_URL (source .ci/services.sh start)");
  const RUNS = Number(process.env.POLYKV_BENCH_RUNS) || 7;
  const admin = await mysql.createConnection(url);
  await admin.query("DROP DATABASE IF EXISTS bench_polykv");
  await admin.query("CREATE DATABASE bench_polykv");
  await admin.end();
  const pool = mysql.createPool({ uri: withDatabase(url, "bench_polykv").href, connectionLimit: 8 });
  const store = polykv(pool);
  const { keys, values } = dataset(N);
  await store.setMany(
    keys.map((key, i) => [key, values[i]]),
    { expires: 3600 },
  );
  const batch = (i) => Array.from({ length: 100 }, (_, j) => keys[(i * 100 + j) % N]);
  const cases = [
    ["get()", (i) => store.get(keys[i % N]), 1],
    ["getWithMetadata()", (i) => store.getWithMetadata(keys[i % N]), 1],
    ["getMany(100 keys)", (i) => store.getMany(batch(i)), 100],
    [
      "100 × get() awaited in turn",
      (i) => batch(i).reduce((done, key) => done.then(() => store.get(key)), Promise.resolve()),
      100,
    ],
    ["100 × get() in flight", (i) => Promise.all(batch(i).map((key) => store.get(key))), 100],
  ];
  const n = (per) => (per === 1 ? 2000 : 40);
  for (const [, fn, per] of cases) await measure(fn, { n: n(per) }); // warm-up
  const results = cases.map(() => []);
  for (let run = 0; run < RUNS; run++) {
    for (const [i, [, fn, per]] of cases.entries()) results[i].push((await measure(fn, { n: n(per) })) * per);
  }
  console.log(`mysql2 Pool (8), ${N} keys with a deadline, median of ${RUNS} passes, keys read per second:`);
  for (const [i, [name]] of cases.entries())
    console.log(`  ${name.padEnd(30)} ${Math.round(median(results[i])).toLocaleString("en")}`);
  await pool.end();
}

if (import.meta.url === `file://${process.argv[1]}`) await dataModel();

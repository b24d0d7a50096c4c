// Bench rows: polykv vs polystore over the same kind of `pg` client (a Client, and a
// Pool of 8 connections), against the server in POLYKV_TEST_POSTGRES_URL.
//
// Each library gets its own schema (bench_polykv, bench_polystore) so each creates
// and uses its own `kv` table, exactly as it would alone, and clearing one never
// touches the other. 2 000 keys per pass rather than 10 000: every op is a network
// round trip (~0.1 ms), and 10 000 would make this row take many minutes.
import pg from "pg";
import polystore from "polystore";
import polykv from "../index.js";

const N = Number(process.env.POLYKV_BENCH_PG_KEYS) || 2000;

export default async function postgresRows() {
  const url = process.env.POLYKV_TEST_POSTGRES_URL;
  const skip = url ? undefined : "set POLYKV_TEST_POSTGRES_URL (source .ci/services.sh start)";
  if (url) {
    const admin = new pg.Client(url);
    await admin.connect();
    for (const schema of ["bench_polykv", "bench_polystore"]) {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.query(`CREATE SCHEMA ${schema}`);
    }
    await admin.end();
  }
  const options = (schema) => ({ connectionString: url, options: `-c search_path=${schema}` });
  return [
    {
      name: "pg Client",
      group: "postgres",
      n: N,
      skip,
      polykv: () => polykv(new pg.Client(options("bench_polykv"))),
      polystore: () => polystore(new pg.Client(options("bench_polystore"))),
    },
    {
      name: "pg Pool (8)",
      group: "postgres",
      n: N,
      skip,
      polykv: () => polykv(new pg.Pool({ ...options("bench_polykv"), max: 8 })),
      polystore: () => polystore(new pg.Pool({ ...options("bench_polystore"), max: 8 })),
    },
  ];
}

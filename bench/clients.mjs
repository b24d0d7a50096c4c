// Bench rows for the user-supplied in-process clients and the HTTP API: polykv and
// polystore over the same kind of client, each library on its own instance.
//   level        classic-level databases on disk (in a temp folder)
//   cloudflare   miniflare's in-memory KVNamespace (Workers KV as run locally)
//   api          kv("http://…") against polykv/server serving kv() on a loopback
//                port: the cost is the HTTP round trip, the same for both clients
// level and cloudflare never wait on another process, so they are timed by this
// process's CPU time (LevelDB's worker threads included), which other load on
// the machine does not skew.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { KVNamespace } from "@miniflare/kv";
import { MemoryStorage } from "@miniflare/storage-memory";
import polystore from "polystore";
import polykv from "../index.js";
import { listen } from "../lib/server.js";

const API_KEYS = Number(process.env.POLYKV_BENCH_API_KEYS) || 2000;

export default async function clientRows() {
  const folder = mkdtempSync(join(tmpdir(), "polykv-bench-"));
  process.once("exit", () => rmSync(folder, { recursive: true, force: true }));
  let count = 0;
  const level = () => new Level(join(folder, `level${count++}`));
  const namespace = () => new KVNamespace(new MemoryStorage());
  const served = async () => {
    const server = await listen(polykv());
    server.server.unref();
    return server.url;
  };
  return [
    {
      name: "level (classic-level)",
      group: "level",
      clock: "cpu",
      polykv: () => polykv(level()),
      polystore: () => polystore(level()),
    },
    {
      name: "Cloudflare KV (miniflare)",
      group: "cloudflare",
      clock: "cpu",
      polykv: () => polykv(namespace()),
      polystore: () => polystore(namespace()),
    },
    {
      name: "API over polykv/server",
      group: "api",
      n: API_KEYS,
      polykv: async () => polykv(await served()),
      polystore: async () => polystore(await served()),
    },
  ];
}

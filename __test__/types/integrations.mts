// The typings of the framework integrations, resolved through package.json "exports".
import kv from "polykv";
import expressStore, { ExpressStore } from "polykv/express";
import honoSessionStore from "polykv/hono-sessions";
import secondaryStorage from "polykv/better-auth";
import axiosCacheStorage from "polykv/axios-cache-interceptor";
import fedifyKvStore, { type KvKey } from "polykv/fedify";
import keyvStore from "polykv/keyv";
import unstorageDriver, { sessionDriver } from "polykv/unstorage";

const sessions: ExpressStore = expressStore("sqlite:sessions.db", { ttl: 3600 }).prefix("sess:");
sessions.get("sid", (error, session) => void [error, session]);
const hono = honoSessionStore(kv());
const auth = secondaryStorage("redis://localhost:6379");
const { increment } = auth;
const http = axiosCacheStorage(undefined, { loadingTtl: 30 }).prefix("http:");
const fedify = fedifyKvStore();
const key: KvKey = ["actor", "ada"];
const adapter = keyvStore(new Map());
const driver = unstorageDriver({ url: "sqlite:cache.db", prefix: "app:", ttl: 60 });
const astro: { entrypoint: string } = sessionDriver({ url: "sqlite:sessions.db" });

export async function run(): Promise<unknown[]> {
  const count: number = await increment("hits", 60);
  const value: unknown = await fedify.get(key);
  for await (const entry of fedify.list(["actor"])) void entry.key[0];
  const found: boolean = await adapter.has("k");
  const keys: string[] = await driver.getKeys("app");
  return [count, value, found, keys, hono.store.type, http.store.PREFIX, astro.entrypoint];
}

// A small app written against polystore's public API and types (only what polystore
// exports), importing "polykv" as an app does after swapping its import.
// tsconfig.json compiles it against polykv's index.d.ts; tsconfig.polystore.json maps
// "polykv" to polystore's own typings, which proves the code is a genuine polystore app.
import kv, { type Adapter, type Options, type Serializable, type Store, type StoreType } from "polykv";

// --- sessions: a typed substore with a default expiry --------------------------------
type Session = { userId: number; roles: string[]; createdAt: string; meta: { ip: string } | null };

const root = kv(new Map(), { prefix: "app:" });
const sessions: Store<Session> = kv<Session>(root, { prefix: "session:", expires: "1 day" });

export async function login(userId: number, ip: string): Promise<string> {
  const session: Session = { userId, roles: ["user"], createdAt: "2024-01-01T00:00:00Z", meta: { ip } };
  return sessions.add(session, { expires: "2h" });
}

export async function whoami(id: string): Promise<number | null> {
  const session = await sessions.get(id);
  return session ? session.userId : null;
}

export async function logoutEverywhere(userId: number): Promise<number> {
  let count = 0;
  for await (const [id, session] of sessions) {
    if (session.userId !== userId) continue;
    await sessions.del(id);
    count++;
  }
  return count;
}

export async function activeSessions(): Promise<Record<string, Session>> {
  await sessions.prune();
  return sessions.all();
}

// --- a cache helper generic over any store --------------------------------------------
export async function cached<T extends Serializable>(
  cache: Store,
  key: string,
  make: () => Promise<T>,
  options: Options = { expires: "5min" },
): Promise<T> {
  const hit = await cache.get<T>(key);
  if (hit !== null) return hit;
  const fresh = await make();
  await cache.set<T>(key, fresh, options);
  return fresh;
}

const cache = kv().prefix("cache:").expires(60);
export const price = () => cached(cache, "price", async () => ({ eur: 10, usd: 11 }));

// --- counters, with the untyped store and the per-call options -------------------------
const store = kv();
export async function bump(name: string): Promise<number> {
  const current = await store.get<number>(`count:${name}`);
  const next = (current ?? 0) + 1;
  await store.set(`count:${name}`, next, { expires: null });
  return next;
}

export async function report(): Promise<string> {
  const keys: string[] = await store.keys();
  const values: Serializable[] = await store.values();
  const entries: [string, Serializable][] = await store.entries();
  const exists: boolean = await store.has("count:a");
  const kind: StoreType = store.type;
  const prefix: string = store.PREFIX;
  const defaults = store.EXPIRES;
  await store.set("tmp", "x", { prefix: "other:", expires: 0.5 });
  await store.clear();
  await store.close();
  return JSON.stringify({ keys, values, entries, exists, kind, prefix, defaults });
}

// --- custom clients -------------------------------------------------------------------
// Wrapper mode: the store hands over { expires, value } records and hides expired ones.
const records = new Map<string, any>();
export const wrapperClient: Adapter = {
  TYPE: "RECORDS",
  get: (key: string) => records.get(key) ?? null,
  set: (key: string, data: any) => {
    if (data === null) records.delete(key);
    else records.set(key, data);
  },
  del: (key: string) => {
    records.delete(key);
  },
  *iterate(prefix: string) {
    for (const [key, data] of records) if (key.startsWith(prefix)) yield [key, data] as [string, any];
  },
};

// Native mode: the client owns expiry and gets the value and the seconds.
const raw = new Map<string, { value: any; until: number | null }>();
export const nativeClient: Adapter = {
  TYPE: "NATIVE",
  HAS_EXPIRATION: true,
  async get(key: string) {
    const hit = raw.get(key);
    return hit && (hit.until === null || hit.until > Date.now()) ? hit.value : null;
  },
  async set(key: string, value: any, expires?: number | string | null) {
    if (value === null) raw.delete(key);
    else raw.set(key, { value, until: typeof expires === "number" ? Date.now() + expires * 1000 : null });
  },
  async has(key: string) {
    return raw.has(key);
  },
  async keys(prefix: string) {
    return [...raw.keys()].filter((key) => key.startsWith(prefix));
  },
};

class ClassClient {
  TYPE = "CLASSY" as const;
  get(_key: string): null {
    return null;
  }
  set(_key: string, _data: any): void {}
}

export const custom = [kv(wrapperClient), kv(nativeClient, { prefix: "n:", expires: "1h" })];
const classy = kv(new ClassClient());
export const classyType: "CLASSY" = classy.type;
export const fromClass = kv(ClassClient);

// --- other inputs polystore takes -----------------------------------------------------
export const inputs = [
  kv("file:///tmp/app/data.json"),
  kv("file:///tmp/app/folder/"),
  kv(Promise.resolve(new Map())),
  kv(sessions),
];

export type AppStore = ReturnType<typeof kv>;
export const stores: AppStore[] = [root, store, cache];

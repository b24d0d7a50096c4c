// Everything here must compile (`npm run test:types`). The Equal<> checks pin the exact
// types the API gives back, so a typing that drifts to `any` or loses `null` fails too.
import kv from "polykv";
import type {
  Adapter,
  Expires,
  KvOptions,
  NativeClient,
  Options,
  Serializable,
  Store,
  StoreType,
  WrapperClient,
} from "polykv";

type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
function expect<T extends true>(): void {}

type User = { name: string; age: number; tags: string[]; manager: User | null };

export async function memory(): Promise<void> {
  const store = kv();
  expect<Equal<typeof store, Store<Serializable>>>();
  expect<Equal<typeof store.type, StoreType>>();
  expect<Equal<typeof store.PREFIX, string>>();
  expect<Equal<typeof store.EXPIRES, number | null>>();

  const key = await store.set("a", { hello: "world", list: [1, "two", null, { deep: true }] }, { expires: "1h" });
  expect<Equal<typeof key, string>>();
  await store.set("b", 1, { expires: 10 });
  await store.set("c", "text", { expires: null, prefix: "p:" });
  await store.set("d", false, { expires: undefined });
  await store.set(5, 0); // a finite number key is stored as "5"
  await store.set("gone", null); // deletes
  await store.set("gone", undefined); // deletes too

  const value = await store.get("a");
  expect<Equal<typeof value, Serializable | null>>();
  const text = await store.get<string>("c");
  expect<Equal<typeof text, string | null>>();
  const has: boolean = await store.has(5);
  const removed: string = await store.del("a");
  const id: string = await store.add({ at: "2024-01-01" }, { expires: "2 days" });
  void [has, removed, id];

  expect<Equal<Awaited<ReturnType<typeof store.keys>>, string[]>>();
  expect<Equal<Awaited<ReturnType<typeof store.values>>, Serializable[]>>();
  expect<Equal<Awaited<ReturnType<typeof store.entries>>, [string, Serializable][]>>();
  expect<Equal<Awaited<ReturnType<typeof store.all>>, Record<string, Serializable>>>();
  for await (const [k, v] of store) {
    expect<Equal<typeof k, string>>();
    expect<Equal<typeof v, Serializable>>();
  }
  await store.clear();
  await store.prune();
  await store.close();
}

export async function typed(): Promise<void> {
  const users = kv<User>(new Map(), { prefix: "user:", expires: "1d", strict: true });
  expect<Equal<typeof users, Store<User>>>();
  const ada: User = { name: "Ada", age: 36, tags: ["math"], manager: null };
  await users.set("ada", ada);
  const back = await users.get("ada");
  expect<Equal<typeof back, User | null>>();
  if (back) void back.manager?.name;

  const admins = users.prefix("admin:").expires("2h");
  expect<Equal<typeof admins, Store<User>>>();
  expect<Equal<Awaited<ReturnType<typeof admins.all>>, Record<string, User>>>();
  for await (const [, user] of admins) void user.age;

  const counts = kv<number>();
  await counts.set("visits", 1);
  const visits = await counts.get("visits");
  expect<Equal<typeof visits, number | null>>();
  await counts.set("visits", (visits ?? 0) + 1);
}

export function construction(): void {
  kv(new Map());
  kv(new Map<string, unknown>(), { prefix: "app:" });
  kv("file:///tmp/polykv/data.json");
  kv(kv(), { prefix: "nested:" }); // re-wrapping another store
  kv(Promise.resolve(kv()));
  const strict = kv(undefined, { expires: "5 minutes", strict: true });
  void strict;
  const store = new kv.Store(undefined, { prefix: "x:" });
  expect<Equal<typeof store, Store<Serializable>>>();
  expect<Equal<typeof kv.default, typeof kv>>();
  expect<Equal<typeof kv.kv, typeof kv>>();
  expect<Equal<ReturnType<typeof kv.parseExpires>, number | null>>();
  kv.parseExpires("10s");
  kv.parseExpires(0.5);
  kv.parseExpires(null);
  kv.parseExpires("5potato", true);
  const expires: Expires = "1 week";
  const perCall: Options = { expires, prefix: "tmp:" };
  const options: KvOptions = { ...perCall, strict: false };
  void options;
}

// A client in wrapper mode: it stores { expires, value } records.
class RecordsClient {
  TYPE = "RECORDS" as const;
  #data = new Map<string, { expires: number | null; value: Serializable }>();
  get(key: string) {
    return this.#data.get(key) ?? null;
  }
  set(key: string, data: { expires: number | null; value: Serializable } | null) {
    if (data === null) this.#data.delete(key);
    else this.#data.set(key, data);
  }
  *iterate(prefix: string) {
    for (const entry of this.#data) if (entry[0].startsWith(prefix)) yield entry;
  }
}

// A client in native mode: it owns expiry and gets values as they are.
const nativeClient = {
  TYPE: "NATIVE" as const,
  HAS_EXPIRATION: true as const,
  data: new Map<string, Serializable>(),
  async get(key: string) {
    return this.data.get(key) ?? null;
  },
  async set(key: string, value: Serializable | null, expires: number | null) {
    void expires;
    if (value === null) this.data.delete(key);
    else this.data.set(key, value);
  },
  has(key: string) {
    return this.data.has(key);
  },
  async *iterate(prefix: string): AsyncGenerator<[string, Serializable]> {
    for (const entry of this.data) if (entry[0].startsWith(prefix)) yield entry;
  },
  async keys(prefix: string) {
    return [...this.data.keys()].filter((key) => key.startsWith(prefix));
  },
};

export function customClients(): void {
  const wrapper = new RecordsClient() satisfies Adapter;
  const wrapperStore = kv(wrapper);
  expect<Equal<typeof wrapperStore.type, "RECORDS">>();
  kv(RecordsClient); // a class is instantiated with no arguments

  const native: NativeClient = nativeClient;
  const nativeStore = kv(nativeClient);
  expect<Equal<typeof nativeStore.type, "NATIVE">>();
  kv(native);

  const raw = { RAW: true as const, get: (key: string) => key, set: () => {} } satisfies Adapter;
  kv(raw);
  const minimal: WrapperClient = { get: () => null, set: () => {}, del: () => {} };
  kv(minimal);
}

export function capabilities(): void {
  const caps: kv.Capabilities | null = kv("sqlite::memory:").capabilities;
  if (caps !== null) {
    const ordered: boolean = caps.ordered;
    const ms: boolean =
      caps.expiryMs && caps.expiresItself && caps.serializes && caps.listing && caps.atomic && caps.bytes;
    void [ordered, ms];
  }
  const code: kv.ErrorCode = "ERR_POLYKV_KEY";
  void code;
}

// The data model and atomic operations (docs/behaviour.md §26–31).
export async function dataModel(): Promise<void> {
  const store = kv();
  await store.set("m", { a: 1 }, { metadata: { tag: "x" }, expires: "1h" });
  await store.set("bytes", new Uint8Array([1, 2]));
  await store.set("buffer", new ArrayBuffer(4));
  const read = await store.getWithMetadata<{ tag: string }>("m");
  expect<Equal<typeof read.metadata, { tag: string } | null>>();
  expect<Equal<typeof read.expires, number | null>>();
  expect<Equal<typeof read.value, Serializable | null>>();
  expect<Equal<Awaited<ReturnType<typeof store.get<Serializable>>>, Serializable | null>>();
  const text = await store.get("m", "text");
  expect<Equal<typeof text, string | null>>();
  const bytes = await store.get("bytes", { type: "bytes" });
  expect<Equal<typeof bytes, Uint8Array | null>>();
  const buffer = await store.get("bytes", "arrayBuffer");
  expect<Equal<typeof buffer, ArrayBuffer | null>>();
  const page = await store.list({ prefix: "m", limit: 10 });
  expect<Equal<typeof page.list_complete, boolean>>();
  expect<Equal<typeof page.cursor, string | undefined>>();
  for (const key of page.keys) {
    expect<Equal<typeof key.name, string>>();
    expect<Equal<typeof key.expiration, number | undefined>>();
  }
  await store.list({ cursor: page.cursor });
  const named: string = await store.setWithCache("assets/[hash].json", { a: 1 });
  const digest: string = kv.hash("text");
  const swapped: boolean = await store.cas("n", null, 1, { expires: 60 });
  const count: number = await store.increment("n", 2, { expires: "1m" });
  const taken = await store.getAndDelete<number>("n");
  expect<Equal<typeof taken, number | null>>();
  const many = await store.getMany(["a", 5]);
  expect<Equal<typeof many, (Serializable | null)[]>>();
  const keys: string[] = await store.setMany(
    [
      ["a", 1],
      ["b", null],
    ],
    { expires: 10 },
  );
  await store.setMany({ a: 1, b: "two" });
  const gone: string[] = await store.delMany(["a", "b"]);
  const caps = store.capabilities;
  if (caps) {
    const both: boolean = caps.bytes && caps.metadata && caps.atomic;
    void both;
  }
  void [named, digest, swapped, count, keys, gone];

  const at = await store.expiresAt("n");
  expect<Equal<typeof at, number | null | undefined>>();
  const left = await store.ttl("n");
  expect<Equal<typeof left, number | null | undefined>>();
  const moved: boolean = await store.touch("n", { expires: "1h" });
  const same: Store = store.on("disconnect", () => {}).off("error", () => {});
  const labelled: Store = kv.open("cache");
  void [moved, same, labelled, kv.open()];
}

// A plain interface (no index signature) is a value type too, nested ones included.
interface Account {
  name: string;
  plan?: "free" | "pro";
  owner: Account | null;
  tags: readonly string[];
  limits: { daily: number };
}
export async function interfaces(): Promise<void> {
  const accounts = kv<Account>();
  expect<Equal<typeof accounts, Store<Account>>>();
  await accounts.set("a", { name: "a", owner: null, tags: [], limits: { daily: 1 } });
  const account = await accounts.get("a");
  expect<Equal<typeof account, Account | null>>();
  const typed: Store<Account> = kv<Account>(new Map(), { prefix: "acct:" });
  for await (const [, value] of typed.prefix("x:")) expect<Equal<typeof value, Account>>();
}

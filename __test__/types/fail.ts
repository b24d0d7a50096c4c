// Each line after a `@ts-expect-error` must NOT compile; tsc fails if one of them does.
import kv from "polykv";
import type { Adapter, KvOptions, NativeClient, Serializable, Store } from "polykv";

export async function values(): Promise<void> {
  const store = kv();
  // @ts-expect-error a function is not JSON
  await store.set("f", () => 1);
  // @ts-expect-error a Date is not JSON (it would come back from a file or Redis as a string)
  await store.set("d", new Date());
  // @ts-expect-error a Map is not JSON
  await store.set("m", new Map<string, string>());
  // @ts-expect-error a BigInt is not JSON
  await store.set("n", 10n);
  // @ts-expect-error a symbol is not JSON
  await store.set("s", Symbol("s"));
  // @ts-expect-error nor is an object holding a function
  await store.add({ run: () => 1 });

  const numbers = kv<number>();
  // @ts-expect-error a Store<number> takes numbers only
  await numbers.set("a", "str");
  // @ts-expect-error nor does add() take a string
  await numbers.add("str");
  // @ts-expect-error get() on a Store<number> may return null
  const n: number = await numbers.get("a");
  // @ts-expect-error iteration yields numbers
  for await (const [, value] of numbers) value.toUpperCase();
  // @ts-expect-error a substore keeps the value type
  await numbers.prefix("p:").set("a", { x: 1 });
  void n;
}

export function valueTypes(): void {
  // @ts-expect-error a store of Dates is not possible
  kv<Date>();
  // @ts-expect-error nor a store of functions
  kv<() => void>();
  // @ts-expect-error Store's type parameter must be JSON
  const s: Store<undefined> | null = null;
  void s;
}

export async function keys(): Promise<void> {
  const store = kv();
  // @ts-expect-error a key is a string or a number
  await store.get(true);
  // @ts-expect-error not an object
  await store.set({ id: 1 }, 1);
  // @ts-expect-error not a symbol
  await store.del(Symbol("k"));
  // @ts-expect-error get() needs a key
  await store.get();
}

export async function options(): Promise<void> {
  // @ts-expect-error expires is seconds, a duration string or null
  kv(undefined, { expires: true });
  // @ts-expect-error prefix is a string
  kv(undefined, { prefix: 5 });
  // @ts-expect-error strict is a boolean
  kv(new Map(), { strict: "yes" });
  // @ts-expect-error an unknown option is a typo
  kv(undefined, { prefx: "a:" });
  const store = kv();
  // @ts-expect-error per-call expires is not an object
  await store.set("a", 1, { expires: {} });
  // @ts-expect-error strict is a kv() option, not a per-call one
  await store.set("a", 1, { strict: true });
  // @ts-expect-error prefix() takes a string
  store.prefix(5);
  // @ts-expect-error expires() takes seconds or a duration
  store.expires(true);
  // @ts-expect-error EXPIRES holds parsed seconds, never a string
  store.EXPIRES = "1h";
  // @ts-expect-error parseExpires() reads numbers and strings
  kv.parseExpires({});
  // @ts-expect-error strict must be a boolean in KvOptions too
  const typo: KvOptions = { strict: 1 };
  void typo;
}

export function clients(): void {
  // @ts-expect-error a client needs set()
  const noSet: Adapter = { get: () => null };
  // @ts-expect-error has() needs RAW or HAS_EXPIRATION (kv() throws otherwise)
  const wrapperHas: Adapter = { get: () => null, set: () => {}, has: () => true };
  // @ts-expect-error keys() too
  const wrapperKeys: Adapter = { get: () => null, set: () => {}, keys: () => [] };
  // @ts-expect-error RAW and HAS_EXPIRATION must match
  const mismatch: Adapter = { RAW: false, HAS_EXPIRATION: true, get: () => null, set: () => {} };
  // @ts-expect-error a native client must say RAW or HAS_EXPIRATION
  const notNative: NativeClient = { get: () => null, set: () => {} };
  // @ts-expect-error a wrapper client's get() returns { expires, value } records
  const badRecord: Adapter = { get: () => "text", set: () => {} };
  const ok: Serializable = null;
  void [noSet, wrapperHas, wrapperKeys, mismatch, notNative, badRecord, ok];
}

export function capabilities(): void {
  const caps = kv().capabilities;
  // @ts-expect-error capabilities may be null (a promised client not resolved yet)
  caps.ordered;
  // @ts-expect-error capabilities are read-only
  if (caps) caps.ordered = true;
  // @ts-expect-error not an error code polykv raises
  const code: import("polykv").ErrorCode = "ERR_SOMETHING";
  void code;
}

export async function dataModel(): Promise<void> {
  const store = kv();
  // @ts-expect-error metadata is JSON too
  await store.set("a", 1, { metadata: () => 1 });
  // @ts-expect-error an unknown read type
  await store.get("a", "blob");
  // @ts-expect-error a text read is a string, not a number
  const text: number | null = await store.get("a", "text");
  // @ts-expect-error list() limit is a number
  await store.list({ limit: "10" });
  // @ts-expect-error increment() returns a number
  const count: string = await store.increment("n");
  // @ts-expect-error cas() on a Store<number> takes numbers
  await kv<number>().cas("n", 1, "two");
  // @ts-expect-error getMany takes an array of keys
  await store.getMany("a");
  void [text, count];
}

export function interfaceValueTypes(): void {
  interface WithDate {
    at: Date;
  }
  interface WithMethod {
    name: string;
    greet(): string;
  }
  interface WithUndefined {
    name: string | undefined;
  }
  // @ts-expect-error an interface holding a Date is not JSON
  kv<WithDate>();
  // @ts-expect-error nor one with a method
  kv<WithMethod>();
  // @ts-expect-error nor one whose property may be undefined (JSON drops it)
  kv<WithUndefined>();
}

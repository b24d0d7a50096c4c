// Public typings for polykv, written by hand.
//
// They follow polystore 0.27's public types, so an app that compiled against
// `polystore` compiles against `polykv` after swapping the import (checked in
// __test__/types/polystore-app.mts). Deliberate differences:
// - looser: keys may be finite numbers (`set(5, v)` stores "5", as at run time);
//   `set(key, null | undefined)` is allowed on any store (it deletes); `kv()` options
//   take `strict` (reject an unreadable `expires` instead of "never"); custom clients
//   may omit `TYPE` (the store reports "UNKNOWN"); options accept explicit `undefined`;
// - sharper: `for await` gives values typed TD (polystore's extra generic overload left
//   them an unresolved type parameter, so no app relied on it);
// - `EXPIRES` is typed as what it holds, parsed seconds or null (polystore: also string);
// - a wrapper-mode client (no RAW / HAS_EXPIRATION) may not have has/keys/values,
//   which kv() rejects at run time.
// The module is CommonJS (`export =`), so both `import kv from "polykv"` and
// `const kv = require("polykv")` are typed. The subpath `polykv/server` brings its
// own .d.ts next to its entry file.

/** The async methods of a client may return the value or a promise of it. */
type MaybePromise<T> = T | PromiseLike<T>;

declare namespace kv {
  /** A key; a finite number is turned into its string (`set(5, v)` then `get("5")`). */
  export type Key = string | number;

  /** A JSON value: what every backend can store and give back. */
  export type Serializable =
    string | number | boolean | null | (Serializable | null)[] | { [key: string]: Serializable | null };

  /**
   * `T`, checked part by part for JSON: the constraint of `Store<T>` and `kv<T>()`,
   * `T extends Json<T>`. Unlike `Serializable` it takes interfaces (`interface User
   * { name: string }`), which have no index signature; a Date, Map, function, symbol,
   * BigInt or `undefined` anywhere in `T` still fails. (A mapped type, not a
   * conditional one, so that it may constrain the very parameter it checks; `bind`
   * is how a function is told from an object.)
   */
  export type Json<T> = ({ [K in keyof T]: JsonPart<T[K]> } & { bind?: never }) | null;
  type JsonPart<V> = V extends Serializable
    ? V
    : V extends bigint | symbol | undefined | ((...args: never[]) => unknown)
      ? never
      : V extends object
        ? { [K in keyof V]: JsonPart<V[K]> }
        : never;

  /**
   * Seconds (fractions allowed, `0.01` is 10 ms), a duration such as `"10s"`,
   * `"5 minutes"`, `"1h"`, `"2 days"`, or `null` for never.
   */
  export type Expires = number | string | null;

  /** Per-call options of `set()` and `add()`. */
  export interface Options {
    /** Replaces the store's prefix for this call. */
    prefix?: string | undefined;
    /** Overrides the store's default expiry for this call (`undefined`: the default; `null`: never). */
    expires?: Expires | undefined;
  }

  /** Binary data: stored as bytes and read back as a `Uint8Array` (a `Buffer` in Node). */
  export type Bytes = Uint8Array | ArrayBuffer | ArrayBufferView;

  /** Options of `set()`: with `metadata`, any JSON value of at most 1024 bytes of JSON text. */
  export interface SetOptions extends Options {
    /** Kept beside the value (`getWithMetadata`, `list`); a `set` without it clears it. */
    metadata?: Serializable | undefined;
  }

  /** How `get(key, type)` returns the value (default "json": as stored). */
  export type ReadType = "json" | "text" | "bytes" | "arrayBuffer" | "stream";

  /** A web ReadableStream of bytes where the app's types have one, else an async iterable of chunks. */
  export type ByteStream = typeof globalThis extends { ReadableStream: new (...args: any[]) => infer R }
    ? R
    : AsyncIterable<Uint8Array>;

  /** What `getWithMetadata()` reads: all null when the key is missing or expired. */
  export interface WithMetadata<T, M = Serializable> {
    value: T | null;
    metadata: M | null;
    /** The deadline in Unix ms, or null when the record never expires. */
    expires: number | null;
  }

  /** The events a store emits. */
  export type StoreEvent = "connect" | "disconnect" | "error";

  /** Options of `list()`. */
  export interface ListOptions {
    /** Only keys starting with this (after the store's own prefix). */
    prefix?: string | undefined;
    /** Keys per page: 1 to 1000, default 1000. */
    limit?: number | undefined;
    /** The `cursor` of the previous page. */
    cursor?: string | undefined;
  }

  /** One page of `list()`, as Workers KV returns it. */
  export interface ListResult<M = Serializable> {
    keys: { name: string; expiration?: number; metadata?: M }[];
    list_complete: boolean;
    /** Present exactly when `list_complete` is false. */
    cursor?: string;
  }

  /** Options of `kv(client, options)`. */
  export interface KvOptions extends Options {
    /** Prepended to every key of the store. Default: "". */
    prefix?: string | undefined;
    /** Default expiry of every `set()`/`add()`. Default: null (never). */
    expires?: Expires | undefined;
    /**
     * Throw a TypeError for an `expires` string that cannot be read (`"5potato"`)
     * instead of treating it as "never expire" as polystore does. Default: false.
     */
    strict?: boolean | undefined;
    /** API (`http(s)://` URLs) only: ms before a request, body included, is abandoned. Default: 10 000. */
    timeout?: number | undefined;
    /** API (`http(s)://` URLs) only: sent as `Authorization: Bearer <token>` (see `polykv/server`). */
    token?: string | undefined;
  }

  /** What `store.type` says about the client; a custom client's own `TYPE` otherwise. */
  export type StoreType =
    | "API"
    | "CLOUDFLARE"
    | "COOKIE"
    | "ETCD3"
    | "FILE"
    | "FOLDER"
    | "FORAGE"
    | "LEVEL"
    | "MEMORY"
    | "MYSQL"
    | "POSTGRES"
    | "PROMISE"
    | "REDIS"
    | "SQLITE"
    | "STORAGE"
    | "UNKNOWN"
    | (string & {});

  /** The record a wrapper-mode client stores: `expires` is a Unix time in ms, or null. */
  export interface StoreData<T extends Serializable = Serializable> {
    value: T;
    expires: number | null;
  }

  /** What every custom client may have, whichever mode it runs in. */
  interface ClientBase {
    /** Shown as `store.type`. Default: "UNKNOWN". */
    TYPE?: StoreType;
    /** Called once from `kv()`, awaited before the first operation. */
    connect?(): unknown;
    /** Awaited before the first operation. */
    promise?: PromiseLike<unknown>;
    test?: (raw: any) => boolean;
    /** Removes the records under `prefix` (else the store deletes them one by one). */
    clear?(prefix: string): unknown;
    /** Removes every record, used by `clear()` on a store without a prefix. */
    clearAll?(): unknown;
    /** Removes expired records under `prefix`. */
    prune?(prefix: string): unknown;
    close?(): unknown;
    /** Deletes one record; without it the store calls `set(key, null)`. */
    del?(key: string): unknown;
  }

  /**
   * A client that keeps expiry itself (`RAW` or `HAS_EXPIRATION`): it gets the
   * value as is and the expiry in seconds (`null`: never).
   */
  export type NativeClient = ClientBase &
    ({ RAW: true; HAS_EXPIRATION?: true } | { HAS_EXPIRATION: true; RAW?: true }) & {
      get(key: string): MaybePromise<Serializable | null | undefined>;
      set(key: string, value: Serializable | null, expires: number | null): unknown;
      add?(prefix: string, value: Serializable, expires: number | null): MaybePromise<string>;
      has?(key: string): MaybePromise<boolean>;
      keys?(prefix: string): MaybePromise<string[]>;
      values?(prefix: string): MaybePromise<Serializable[]>;
      entries?(prefix: string): MaybePromise<[string, Serializable][]>;
      /** Yields `[fullKey, value]`; needed by the group methods and iteration. */
      iterate?(prefix: string): AsyncIterable<[string, Serializable]> | Iterable<[string, Serializable]>;
    };

  /**
   * A client in wrapper mode (no RAW / HAS_EXPIRATION): it stores
   * `{ expires, value }` records and the store hides the expired ones.
   */
  export interface WrapperClient extends ClientBase {
    RAW?: false;
    HAS_EXPIRATION?: false;
    /** A record without a `value` field reads as missing. */
    get(key: string): MaybePromise<StoreData | null | undefined>;
    /** `data === null` deletes (when the client has no `del`). */
    set(key: string, data: StoreData | null, expires?: Expires): unknown;
    add?(prefix: string, data: StoreData, expires?: Expires): MaybePromise<string>;
    entries?(prefix: string): MaybePromise<[string, StoreData][]>;
    /** Yields `[fullKey, record]`; needed by the group methods and iteration. */
    iterate?(prefix: string): AsyncIterable<[string, StoreData]> | Iterable<[string, StoreData]>;
    /** Only native-mode clients may answer `has`, `keys`, `values` (kv() throws otherwise). */
    has?: never;
    keys?: never;
    values?: never;
  }

  /** A custom client for `kv(client)`: an instance, or a class with a no-argument constructor. */
  export type Adapter = NativeClient | WrapperClient;

  /**
   * What a store's backend can do, declared once by its driver (polykv's own; polystore
   * has no such object). Every field is a boolean.
   */
  export interface Capabilities {
    /** Expiry holds at millisecond resolution (false: whole seconds, or a minimum TTL). */
    readonly expiryMs: boolean;
    /** The backend drops expired records itself (Redis, Cloudflare KV, cookies): prune() has nothing to do. */
    readonly expiresItself: boolean;
    /** keys(), entries() and iteration come in ascending key (code-point) order. */
    readonly ordered: boolean;
    /** Values are stored as JSON: reads return copies, and a value JSON cannot hold is a TypeError. */
    readonly serializes: boolean;
    /** keys(), values(), entries(), all() and iteration work (false: a custom client without iterate()). */
    readonly listing: boolean;
    /** A read-modify-write of one record can be made atomic, also across processes. */
    readonly atomic: boolean;
    /** Binary values are kept as bytes (false: as base64 inside a tagged JSON record). */
    readonly bytes: boolean;
    /** The backend keeps metadata itself (false: inside a tagged JSON record). */
    readonly metadata: boolean;
  }

  /** The stable `code` of every error polykv raises (README lists when each is raised). */
  export type ErrorCode =
    | "ERR_POLYKV_KEY"
    | "ERR_POLYKV_VALUE"
    | "ERR_POLYKV_EXPIRES"
    | "ERR_POLYKV_OPTIONS"
    | "ERR_POLYKV_CLIENT"
    | "ERR_POLYKV_UNSUPPORTED"
    | "ERR_POLYKV_ADDON"
    | "ERR_POLYKV_CONNECTION"
    | "ERR_POLYKV_CORRUPT"
    | "ERR_POLYKV_CLOSED"
    | "ERR_POLYKV_BACKEND";

  /** A key-value store; `TD` is the type of the values it holds. */
  export class Store<TD extends Json<TD> = Serializable> {
    /** Prepended to every key of this store. */
    PREFIX: string;
    /** The default expiry in seconds, or null (never). */
    EXPIRES: number | null;
    /** The kind of client, known synchronously. */
    type: StoreType;
    /** What the backend can do; null while a promised client has not resolved. */
    readonly capabilities: Capabilities | null;

    constructor(client?: any, options?: KvOptions);

    /**
     * Stores `value` under a new random 24-character key and returns the key
     * (without the prefix): `const id = await store.add({ hello: "world" }, { expires: "1h" })`.
     */
    add(value: TD, options?: Options): Promise<string>;
    add<T extends TD>(value: T, options?: Options): Promise<string>;

    /**
     * Stores `value` under `key` and returns the key: `await store.set("a", 1, { expires: "10s" })`.
     * A `null` or `undefined` value, or an `expires` of 0 or less, deletes the key.
     */
    set(key: Key, value: TD | null | undefined, options?: SetOptions): Promise<string>;
    set<T extends TD>(key: Key, value: T, options?: SetOptions): Promise<string>;
    set(key: Key, value: Bytes, options?: SetOptions): Promise<string>;

    /** The value under `key`, or `null` when it is missing or expired. */
    get(key: Key): Promise<TD | null>;
    get<T extends TD>(key: Key): Promise<T | null>;
    /** The value read as text, bytes, an ArrayBuffer or a stream of bytes (`"json"`: as stored). */
    get(key: Key, type: "text" | { type: "text" }): Promise<string | null>;
    get(key: Key, type: "bytes" | { type: "bytes" }): Promise<Uint8Array | null>;
    get(key: Key, type: "arrayBuffer" | { type: "arrayBuffer" }): Promise<ArrayBuffer | null>;
    get(key: Key, type: "stream" | { type: "stream" }): Promise<ByteStream | null>;
    get<T extends TD = TD>(key: Key, type: "json" | { type: "json" }): Promise<T | null>;

    /** `{ value, metadata, expires }` of `key` (expires: the deadline in ms or null); all null when missing. */
    getWithMetadata<M = Serializable, T extends TD = TD>(key: Key): Promise<WithMetadata<T, M>>;
    getWithMetadata<M = Serializable>(key: Key, type: "text" | { type: "text" }): Promise<WithMetadata<string, M>>;
    getWithMetadata<M = Serializable>(
      key: Key,
      type: "bytes" | { type: "bytes" },
    ): Promise<WithMetadata<Uint8Array, M>>;
    getWithMetadata<M = Serializable>(key: Key, type: ReadType | { type: ReadType }): Promise<WithMetadata<unknown, M>>;

    /** One page of keys with their expiration and metadata: `{ keys, list_complete, cursor? }`. */
    list<M = Serializable>(options?: ListOptions): Promise<ListResult<M>>;

    /** Stores `value` under `key` with `[hash]` replaced by `hash(value)`, only when new; returns the final key. */
    setWithCache(key: Key, value: TD | Bytes, options?: SetOptions): Promise<string>;

    /**
     * Replaces the value by `next` only when it JSON-deep-equals `expected` (null or undefined:
     * the key is absent); a null or undefined `next` deletes. True when it replaced.
     */
    cas(key: Key, expected: TD | null | undefined, next: TD | null | undefined, options?: Options): Promise<boolean>;

    /** Adds `by` (default 1) to the number under `key` and returns it; a new key takes `expires`, later ones keep it. */
    increment(key: Key, by?: number, options?: Options): Promise<number>;

    /** The value under `key`, deleted in the same step: each value goes to exactly one caller. */
    getAndDelete<T extends TD = TD>(key: Key): Promise<T | null>;

    /** The values of `keys` in order, null where missing. */
    getMany<T extends TD = TD>(keys: Key[]): Promise<(T | null)[]>;

    /** Writes every pair (a null value deletes); all are checked before any is written. Returns the keys. */
    setMany(
      entries: [Key, TD | Bytes | null | undefined][] | Record<string, TD | Bytes | null | undefined>,
      options?: Options,
    ): Promise<string[]>;

    /** Deletes every key (missing ones are fine) and returns them. */
    delMany(keys: Key[]): Promise<string[]>;

    /** The deadline of `key` in Unix ms; null when it never expires; undefined when it is missing. */
    expiresAt(key: Key): Promise<number | null | undefined>;

    /** The ms left before `key` expires; null when it never does; undefined when it is missing. */
    ttl(key: Key): Promise<number | null | undefined>;

    /** Moves the expiry of `key` (null: never; <= 0 deletes), keeping its value; false when missing. */
    touch(key: Key, options: { expires: Expires }): Promise<boolean>;

    /** `connect` and `disconnect` (network backends, once per transition) and background `error`s. */
    on(event: StoreEvent, listener: (payload?: unknown) => void): this;
    once(event: StoreEvent, listener: (payload?: unknown) => void): this;
    off(event: StoreEvent, listener: (payload?: unknown) => void): this;
    removeListener(event: StoreEvent, listener: (payload?: unknown) => void): this;
    listenerCount(event: StoreEvent): number;

    /** Whether `key` holds a value that has not expired. */
    has(key: Key): Promise<boolean>;

    /** Deletes `key` (missing is fine) and returns it. */
    del(key: Key): Promise<string>;

    /** `for await (const [key, value] of store)`: the live entries, keys without the prefix. */
    [Symbol.asyncIterator](): AsyncGenerator<[string, TD], void, unknown>;

    /** The live `[key, value]` pairs, keys without the prefix. */
    entries(): Promise<[string, TD][]>;
    entries<T extends TD>(): Promise<[string, T][]>;

    /** The live keys, without the prefix. */
    keys(): Promise<string[]>;

    /** The live values. */
    values(): Promise<TD[]>;
    values<T extends TD>(): Promise<T[]>;

    /** The live entries as an object: `{ key: value }`. */
    all(): Promise<Record<string, TD>>;
    all<T extends TD>(): Promise<Record<string, T>>;

    /** A store on the same client whose keys all start with `PREFIX + prefix`. */
    prefix(prefix?: string): Store<TD>;

    /** A store on the same client whose default expiry is `expires` (none: never). */
    expires(expires?: Expires): Store<TD>;

    /** Deletes every record under this store's prefix. */
    clear(): Promise<void>;

    /** Deletes the expired records under this store's prefix. */
    prune(): Promise<void>;

    /** Closes the client's connection, if it has one. */
    close(): Promise<void>;
  }

  /**
   * Reads an `expires` value into seconds, `null` meaning never. Numbers are seconds;
   * strings such as `"10s"`, `"1.5h"`, `"2 days"`. An unreadable string is `null`,
   * or a TypeError when `strict` is true.
   */
  export function parseExpires(expires: Expires | undefined, strict?: boolean): number | null;

  /**
   * The store the environment names for `label`: POLYKV_STORE_<LABEL> (for "default" also
   * POLYKV_URL; with neither, the zero-config `sqlite:` store). The same label, the same store.
   */
  export function open(label?: string): Store<Serializable>;

  /** BLAKE3-256 of a string's UTF-8 bytes, or of bytes, as 64 lowercase hex digits. */
  export function hash(input: string | Bytes): string;

  export { kv, kv as default };
}

/**
 * Makes a store: `kv()` in memory, `kv(new Map())` on your Map, a URL string
 * (`"file:///data/kv.json"`, `"sqlite:///data/kv.db"`, `"redis://localhost"`,
 * `"redis+cluster://10.0.0.1:6379,10.0.0.2:6379"`), a
 * client such as a node-redis client or a SQLite database, a custom client
 * (object or class), another store, or a promise of any of these.
 */
declare function kv(): kv.Store<kv.Serializable>;
declare function kv<A extends { TYPE: kv.StoreType }>(
  client: A,
  options?: kv.KvOptions,
): kv.Store<kv.Serializable> & { type: A["TYPE"] };
declare function kv<T extends kv.Json<T> = kv.Serializable>(client?: any, options?: kv.KvOptions): kv.Store<T>;
// Last, so that `ReturnType<typeof kv>` (which reads the last overload) is a Store<Serializable>.
declare function kv(client?: any, options?: kv.KvOptions): kv.Store<kv.Serializable>;

export = kv;

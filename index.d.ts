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
    /** Binary values are kept as bytes. */
    readonly bytes: boolean;
  }

  /** The stable `code` of every error polykv raises (README lists when each is raised). */
  export type ErrorCode =
    | "ERR_POLYKV_KEY"
    | "ERR_POLYKV_VALUE"
    | "ERR_POLYKV_EXPIRES"
    | "ERR_POLYKV_OPTIONS"
    | "ERR_POLYKV_CLIENT"
    | "ERR_POLYKV_UNSUPPORTED"
    | "ERR_POLYKV_CONNECTION"
    | "ERR_POLYKV_CORRUPT"
    | "ERR_POLYKV_CLOSED"
    | "ERR_POLYKV_BACKEND";

  /** A key-value store; `TD` is the type of the values it holds. */
  export class Store<TD extends Serializable = Serializable> {
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
    set(key: Key, value: TD | null | undefined, options?: Options): Promise<string>;
    set<T extends TD>(key: Key, value: T, options?: Options): Promise<string>;

    /** The value under `key`, or `null` when it is missing or expired. */
    get(key: Key): Promise<TD | null>;
    get<T extends TD>(key: Key): Promise<T | null>;

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

  export { kv, kv as default };
}

/**
 * Makes a store: `kv()` in memory, `kv(new Map())` on your Map, a URL string
 * (`"file:///data/kv.json"`, `"sqlite:///data/kv.db"`, `"redis://localhost"`), a
 * client such as a node-redis client or a SQLite database, a custom client
 * (object or class), another store, or a promise of any of these.
 */
declare function kv(): kv.Store<kv.Serializable>;
declare function kv<A extends { TYPE: kv.StoreType }>(
  client: A,
  options?: kv.KvOptions,
): kv.Store<kv.Serializable> & { type: A["TYPE"] };
declare function kv<T extends kv.Serializable = kv.Serializable>(client?: any, options?: kv.KvOptions): kv.Store<T>;

export = kv;

// Typings of polykv/fedify (a Fedify KvStore), structural: the same shapes as
// @fedify/fedify's KvKey, KvStoreSetOptions and KvStoreListEntry.
import kv = require("../../index.js");

declare namespace fedifyKvStore {
  export type KvKey = readonly [string] | readonly [string, ...string[]];
  /** `ttl` is a Temporal.Duration (anything with `total({ unit })`). */
  export interface KvStoreSetOptions {
    ttl?: { total(options: { unit: "millisecond" }): number } | undefined;
  }
  export interface KvStoreListEntry {
    readonly key: KvKey;
    readonly value: unknown;
  }

  export class FedifyKvStore {
    constructor(client?: any);
    readonly store: kv.Store;
    prefix(prefix: string): FedifyKvStore;
    get<T = unknown>(key: KvKey): Promise<T | undefined>;
    set(key: KvKey, value: unknown, options?: KvStoreSetOptions): Promise<void>;
    delete(key: KvKey): Promise<void>;
    cas(key: KvKey, expectedValue: unknown, newValue: unknown, options?: KvStoreSetOptions): Promise<boolean>;
    list(prefix?: KvKey): AsyncIterable<KvStoreListEntry>;
  }

  export { fedifyKvStore as default };
}

/** A Fedify KvStore over `client` (anything kv() takes; default: memory). */
declare function fedifyKvStore(client?: any): fedifyKvStore.FedifyKvStore;

export = fedifyKvStore;

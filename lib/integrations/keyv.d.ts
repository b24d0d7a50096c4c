// Typings of polykv/keyv (a keyv 5 KeyvStoreAdapter), structural. At run time a
// KeyvStore is a node:events EventEmitter (keyv listens to its "error" events).
import kv = require("../../index.js");

declare namespace keyvStore {
  export class KeyvStore {
    constructor(client?: any);
    on(event: string, listener: (...args: any[]) => void): this;
    emit(event: string, ...args: any[]): boolean;
    readonly store: kv.Store;
    opts: { dialect: string; url: string };
    namespace?: string | undefined;
    prefix(prefix: string): KeyvStore;
    get(key: string): Promise<any>;
    getMany(keys: string[]): Promise<any[]>;
    /** `ttl` in milliseconds. */
    set(key: string, value: any, ttl?: number): Promise<boolean>;
    setMany(entries: { key: string; value: any; ttl?: number }[]): Promise<void>;
    delete(key: string): Promise<boolean>;
    deleteMany(keys: string[]): Promise<boolean>;
    has(key: string): Promise<boolean>;
    hasMany(keys: string[]): Promise<boolean[]>;
    clear(): Promise<void>;
    iterator(namespace?: string): AsyncGenerator<[string, any], void>;
    disconnect(): Promise<void>;
  }

  export { keyvStore as default };
}

/** A keyv storage adapter over `client` (anything kv() takes; default: memory). */
declare function keyvStore(client?: any): keyvStore.KeyvStore;

export = keyvStore;

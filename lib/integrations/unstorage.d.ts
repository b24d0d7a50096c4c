// Typings of polykv/unstorage (an unstorage Driver and Astro's session driver config), structural.
import kv = require("../../index.js");

declare namespace unstorageDriver {
  export interface UnstorageDriverOptions {
    /** Anything kv() takes as a string ("sqlite:cache.db", "redis://…"). Default: a memory store. */
    url?: string | undefined;
    /** A store or client object instead of `url` (not serializable, so not for Astro). */
    store?: any;
    /** Prepended to every key. Default: "". */
    prefix?: string | undefined;
    /** Default expiry in seconds. Default: never. */
    ttl?: number | undefined;
  }

  export class UnstorageDriver {
    constructor(options?: UnstorageDriverOptions);
    readonly name: "polykv";
    readonly flags: { ttl: true };
    readonly options: UnstorageDriverOptions;
    readonly store: kv.Store;
    prefix(prefix: string): UnstorageDriver;
    getInstance(): kv.Store;
    hasItem(key: string, options?: unknown): Promise<boolean>;
    getItem(key: string, options?: unknown): Promise<any>;
    getItems(items: { key: string; options?: unknown }[], common?: unknown): Promise<{ key: string; value: any }[]>;
    getItemRaw(key: string, options?: unknown): Promise<any>;
    setItem(key: string, value: string, options?: { ttl?: number }): Promise<void>;
    setItemRaw(key: string, value: any, options?: { ttl?: number }): Promise<void>;
    setItems(
      items: { key: string; value: string; options?: { ttl?: number } }[],
      common?: { ttl?: number },
    ): Promise<void>;
    removeItem(key: string, options?: unknown): Promise<void>;
    getMeta(key: string, options?: unknown): Promise<{ ttl?: number } | null>;
    getKeys(base?: string, options?: unknown): Promise<string[]>;
    clear(base?: string, options?: unknown): Promise<void>;
    dispose(): Promise<void>;
  }

  /** Astro's SessionDriverConfig. */
  export interface SessionDriverConfig {
    entrypoint: string;
    config: Omit<UnstorageDriverOptions, "store">;
  }

  /** Astro (≥ 6) session driver config: `session: { driver: sessionDriver({ url: "sqlite:sessions.db" }) }`. */
  export function sessionDriver(config?: Omit<UnstorageDriverOptions, "store">): SessionDriverConfig;

  export { unstorageDriver as default };
}

/** An unstorage driver over a polykv store. */
declare function unstorageDriver(options?: unstorageDriver.UnstorageDriverOptions): unstorageDriver.UnstorageDriver;

export = unstorageDriver;

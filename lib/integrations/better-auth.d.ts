// Typings of polykv/better-auth (better-auth's SecondaryStorage), structural.
import kv = require("../../index.js");

declare namespace betterAuthStorage {
  export class BetterAuthStorage {
    constructor(client?: any);
    readonly store: kv.Store;
    prefix(prefix: string): BetterAuthStorage;
    get: (key: string) => Promise<unknown>;
    /** `ttl` in seconds; undefined or 0: no expiry. */
    set: (key: string, value: string, ttl?: number) => Promise<void>;
    delete: (key: string) => Promise<void>;
    getAndDelete: (key: string) => Promise<unknown>;
    /** Adds one; a new counter starts at 1 and expires `ttl` seconds later, never extended. */
    increment: (key: string, ttl: number) => Promise<number>;
  }

  export { betterAuthStorage as default };
}

/** better-auth secondary storage over `client` (anything kv() takes; default: memory). */
declare function betterAuthStorage(client?: any): betterAuthStorage.BetterAuthStorage;

export = betterAuthStorage;

// Typings of polykv/express (an express-session store). Structural, so they need no
// @types/express-session; an ExpressStore is an express-session Store at run time.
import kv = require("../../index.js");

type Callback<T = void> = (error: unknown, result?: T) => void;

declare namespace expressStore {
  export interface ExpressStoreOptions {
    /** Seconds a session whose cookie has no expiry lives. Default: 86400 (one day). */
    ttl?: number | undefined;
  }

  export class ExpressStore {
    constructor(client?: any, options?: ExpressStoreOptions);
    /** The polykv store the sessions live in. */
    readonly store: kv.Store;
    ttl: number;
    /** The same store type under `prefix`. */
    prefix(prefix: string): ExpressStore;
    get(sid: string, callback?: Callback<any>): void;
    set(sid: string, session: any, callback?: Callback): void;
    touch(sid: string, session: any, callback?: Callback): void;
    destroy(sid: string, callback?: Callback): void;
    /** Every live session, keyed by its sid. */
    all(callback?: Callback<Record<string, any>>): void;
    length(callback?: Callback<number>): void;
    clear(callback?: Callback): void;
    on(event: string, listener: (...args: any[]) => void): this;
    emit(event: string, ...args: any[]): boolean;
  }

  export { expressStore as default };
}

/** An express-session store over `client` (anything kv() takes; default: memory). */
declare function expressStore(client?: any, options?: expressStore.ExpressStoreOptions): expressStore.ExpressStore;

export = expressStore;

// Typings of polykv/axios-cache-interceptor, structural (axios's own typings need the
// DOM lib): the storage is the one axios-cache-interceptor's buildStorage() makes.
import kv = require("../../index.js");

declare namespace axiosCacheStorage {
  export interface AxiosCacheStorageOptions {
    /** Seconds a `loading` entry (a request in flight) lives at most. Default: 60. */
    loadingTtl?: number | undefined;
  }

  /** axios-cache-interceptor's AxiosStorage. */
  export interface AxiosStorage {
    "is-storage": number;
    get(key: string, currentRequest?: any): Promise<any>;
    set(key: string, value: any, currentRequest?: any): Promise<void>;
    remove(key: string, currentRequest?: any): Promise<void>;
    clear?(): Promise<void>;
  }

  /** A storage ready for setupCache(), with the polykv store under it. */
  export type PolykvAxiosStorage = AxiosStorage & {
    readonly store: kv.Store;
    prefix(prefix: string): PolykvAxiosStorage;
  };

  export class AxiosCacheStorage {
    constructor(client?: any, options?: AxiosCacheStorageOptions);
    readonly store: kv.Store;
    loadingTtl: number;
    prefix(prefix: string): PolykvAxiosStorage;
    find(key: string): Promise<any>;
    set(key: string, value: any): Promise<void>;
    remove(key: string): Promise<void>;
    clear(): Promise<void>;
  }

  export { axiosCacheStorage as default };
}

/** An axios-cache-interceptor storage over `client` (anything kv() takes; default: memory). */
declare function axiosCacheStorage(
  client?: any,
  options?: axiosCacheStorage.AxiosCacheStorageOptions,
): axiosCacheStorage.PolykvAxiosStorage;

export = axiosCacheStorage;

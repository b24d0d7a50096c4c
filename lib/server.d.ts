// Typings for `polykv/server` (lib/server.js): serve a polykv store over HTTP with
// polystore's API protocol, for `kv("http://host:port/base/")` clients.
import type { IncomingMessage, Server, ServerResponse } from "node:http";

/** What the server needs from a store: a polykv store (or a polystore one) has all of it. */
export interface ServableStore {
  get(key: string): Promise<unknown>;
  set(key: string, value: any, options?: { expires?: number | string | null }): Promise<unknown>;
  del(key: string): Promise<unknown>;
  prefix(prefix: string): { entries(): Promise<[string, unknown][]> };
}

export interface ServerOptions {
  /** Path the protocol is served under, such as `"/kv/"`; other paths get 404. Default: `"/"`. */
  base?: string;
  /** Largest PUT body accepted, in bytes; a larger one gets 413. Default: 1 048 576 (1 MiB). */
  maxBodySize?: number;
  /** `true` (any origin) or one origin: answer CORS preflights and allow that origin. Default: `false`. */
  cors?: boolean | string;
  /** Required `Authorization: Bearer <token>` on every request (401 otherwise). Default: none. */
  token?: string;
  /** Refuse PUT, DELETE and the writing POST operations (set, cas, increment, getAndDelete, touch, setMany, delMany) with 405. Default: `false`. */
  readOnly?: boolean;
  /** Host names (no port) the server answers to. Default: any with a `token`, else this machine's only. */
  hosts?: string[];
  /** Longest key (or listing prefix), in characters; 400 beyond. Default: 1024. */
  maxKeyLength?: number;
  /** Most entries an unpaged listing answers; 413 beyond (page with `?limit=`). Default: 10 000. */
  maxListing?: number;
  /** Bytes of request bodies held at once over all requests; 503 beyond. Default: 64 MiB. */
  maxBuffered?: number;
  /** Gets the error behind each 500 (whose body stays generic). Default: one `console.error` line. */
  onError?: (error: Error, req: IncomingMessage) => void;
  /** ms to receive a request's headers (`createServer`, `listen`). Default: 10 000. */
  headersTimeout?: number;
  /** ms to receive a whole request (`createServer`, `listen`). Default: 30 000. */
  requestTimeout?: number;
  /** Open connections at once (`createServer`, `listen`). Default: 1024. */
  maxConnections?: number;
  /** Options of `https.createServer` (`key`, `cert`, …): serve HTTPS (`createServer`, `listen`). */
  tls?: import("node:https").ServerOptions;
}

export interface ListenOptions extends ServerOptions {
  /** Port to listen on; 0 picks a free one. Default: 0. */
  port?: number;
  /** Address to bind. Default: `"127.0.0.1"`; any non-loopback address needs a `token`. */
  host?: string;
}

export interface Listening {
  /** The Node HTTP server. */
  server: Server;
  /** The port it listens on. */
  port: number;
  /** The store's URL for `kv(url)`, such as `"http://127.0.0.1:3000/"`. */
  url: string;
  /** Stops listening and closes open connections. */
  close(): Promise<void>;
}

/** A Node request handler serving `store`, to mount in any Node HTTP server. */
export function createHandler(
  store: ServableStore,
  options?: ServerOptions,
): (req: IncomingMessage, res: ServerResponse) => void;

/** A Node `http.Server` serving `store`; call `.listen()` on it. */
export function createServer(store: ServableStore, options?: ServerOptions): Server;

/** Serves `store` on a port and resolves once it listens. */
export function listen(store: ServableStore, options?: ListenOptions): Promise<Listening>;

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
}

export interface ListenOptions extends ServerOptions {
  /** Port to listen on; 0 picks a free one. Default: 0. */
  port?: number;
  /** Address to bind. Default: `"127.0.0.1"` (this machine only; the protocol has no authentication). */
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

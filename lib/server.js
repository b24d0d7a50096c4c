"use strict";
/**
 * `polykv/server`: serves any polykv store over HTTP with polystore's API
 * protocol, so `kv("http://host:port/base/")` (polykv's or polystore's API
 * client) in another process, or in a browser, uses the store as its own.
 *
 * The protocol (docs/behaviour.md §25), under a base path (default `/`):
 *
 * | request                                   | answer                                           |
 * | ----------------------------------------- | ------------------------------------------------ |
 * | `GET base/<encoded key>`                  | 200 with the value's JSON; 404 when missing      |
 * | `PUT base/<encoded key>[?expires=<s>]`    | 204; the body is the value's JSON (`null` deletes)|
 * | `DELETE base/<encoded key>`               | 204, also for a missing key                      |
 * | `GET base/?prefix=<encoded prefix>`       | 200 with `{ "<key without prefix>": value, … }`  |
 * | `POST base/?op=<operation>`               | 200 with the operation's JSON answer (below)     |
 *
 * The POST operations are polykv's, beyond polystore's protocol: each is one
 * request, carried out by one call of the served store's own method, so it is as
 * atomic as that store is. The body is a JSON object; values in it (and in every
 * answer, GET included) are JSON, with binary values as
 * `{"$polykv":1,"bytes":"<base64>"}` and an object that has a "$polykv" key of its
 * own wrapped as `{"$polykv":1,"value":…}` (lib/record.js's tagged form).
 * `expires` is seconds from now, or null for never.
 *
 * | op             | body                                        | answer                            |
 * | -------------- | ------------------------------------------- | --------------------------------- |
 * | `getRecord`    | `{ key }`                                   | `{ value, metadata, expires }` (expires: Unix ms or null) |
 * | `set`          | `{ key, value, metadata?, expires }`        | `{}`                              |
 * | `cas`          | `{ key, expected, next, expires }`          | `{ swapped }`                     |
 * | `increment`    | `{ key, by, expires }`                      | `{ value }`                       |
 * | `getAndDelete` | `{ key }`                                   | `{ value }`                       |
 * | `touch`        | `{ key, expires }`                          | `{ touched }`                     |
 * | `getMany`      | `{ keys }`                                  | `{ values }`                      |
 * | `setMany`      | `{ entries: [[key, value or null]], expires }` | `{}`                           |
 * | `delMany`      | `{ keys }`                                  | `{}`                              |
 * | `list`         | `{ prefix, limit, cursor? }`                | the store's list() page           |
 *
 * An operation the store refuses with one of polykv's error codes (a non-number
 * to increment, a value it cannot hold) answers 200 with
 * `{ "refused": { "code", "message" } }`, so the client raises that very error.
 *
 * `expires` is in seconds (fractions allowed); without it the served store's own
 * default expiry applies. Errors are JSON `{ "error": "<what went wrong>" }`:
 * 400 for a bad key encoding, bad JSON, a key over `maxKeyLength` or a value/key
 * the store refuses, 401 without the `token`, 403 for a Host header the server does
 * not answer to, 404 for a path outside the base or a missing key, 405 for another
 * method (or a write to a `readOnly` server), 413 for a body over `maxBodySize` or
 * a listing over `maxListing`, 500 when the store itself fails (a generic body: the
 * details go to `onError`). No request can crash the server.
 *
 * A listing can be paged: `GET base/?prefix=p&limit=100` answers the first 100
 * entries in key order, and an `x-polykv-next` header holding the cursor for
 * `&after=<cursor>` when more follow (polykv's client pages through it by itself).
 *
 * Safety (docs/behaviour.md §36): `listen()` binds loopback by default and refuses
 * any other address without a `token` (`Authorization: Bearer <token>`, compared
 * in constant time; `kv(url, { token })` sends it). Without a token, only requests
 * whose Host names this machine are answered, so a web page cannot reach the store
 * through DNS rebinding; `hosts` lists other names. `createServer()` sets its own
 * header and request timeouts and a connection cap. For TLS, pass `tls` (options of
 * `https.createServer`), or mount `createHandler()` in your own `https` server.
 *
 * @example
 * const kv = require("polykv");
 * const { listen } = require("polykv/server");
 * const served = await listen(kv("sqlite:///var/data/kv.db"), { port: 3000 });
 * // elsewhere: const store = kv("http://127.0.0.1:3000/");
 * await served.close();
 *
 * @module polykv/server
 */

const http = require("node:http");
const https = require("node:https");
const { createHash, timingSafeEqual } = require("node:crypto");
const { isIP } = require("node:net");
const { polykvError } = require("./errors.js");
const { TAG, isBytes, asUint8, openStored } = require("./record.js");

const DEFAULT_MAX_BODY = 1024 * 1024;
const DEFAULTS = {
  maxKeyLength: 1024, // characters of a decoded key (or listing prefix)
  maxListing: 10_000, // entries in one unpaged listing
  headersTimeout: 10_000, // ms to receive a request's headers
  requestTimeout: 30_000, // ms to receive a whole request, body included
  maxConnections: 1024, // open connections at once
  maxBuffered: 64 * 1024 * 1024, // bytes of request bodies held at once, over every connection
};

/**
 * @typedef {object} ServerOptions
 * @property {string} [base="/"] Path the protocol is served under, such as `"/kv/"`; other paths get 404.
 * @property {number} [maxBodySize=1048576] Largest PUT body accepted, in bytes; a larger one gets 413.
 * @property {boolean | string} [cors=false] `true` (any origin) or one origin: answer CORS preflights and
 *   add `Access-Control-Allow-Origin`, so browser pages on another origin can use the store.
 * @property {string} [token] Required `Authorization: Bearer <token>` on every request (401 otherwise).
 * @property {boolean} [readOnly=false] Refuse PUT, DELETE and the writing operations (set, cas, increment,
 *   getAndDelete, touch, setMany, delMany) with 405.
 * @property {string[]} [hosts] Host names (no port) the server answers to. Default: any with a `token`;
 *   without one, only this machine's (`localhost`, `*.localhost`, `127.x.x.x`, `[::1]`).
 * @property {number} [maxKeyLength=1024] Longest key (or listing prefix) accepted, in characters; 400 beyond.
 * @property {number} [maxListing=10000] Most entries an unpaged listing answers; 413 beyond (page with `limit`).
 * @property {number} [maxBuffered=67108864] Bytes of request bodies held at once, over all requests;
 *   a body that would go over waits for nothing: it gets 503.
 * @property {(error: Error, req: import("node:http").IncomingMessage) => void} [onError] Gets the error
 *   behind each 500 (whose body stays generic). Default: one `console.error` line.
 */

/**
 * @typedef {object} ListenOptions
 * @property {number} [port=0] Port to listen on; 0 picks a free one (read it from the result).
 * @property {string} [host="127.0.0.1"] Address to bind. The default serves this machine only; any
 *   other address (`"0.0.0.0"`, `"::"`, a LAN address) needs a `token`.
 * @property {object} [tls] Options of `https.createServer` (`key`, `cert`, …): serve HTTPS.
 * @property {number} [headersTimeout=10000] ms to receive a request's headers.
 * @property {number} [requestTimeout=30000] ms to receive a whole request.
 * @property {number} [maxConnections=1024] Open connections at once; more are refused.
 */

/**
 * @typedef {object} Listening
 * @property {import("node:http").Server} server The Node HTTP server.
 * @property {number} port The port it listens on.
 * @property {string} url The store's URL for `kv(url)`, such as `"http://127.0.0.1:3000/"`.
 * @property {() => Promise<void>} close Stops listening and closes open connections.
 */

class HttpError extends Error {
  constructor(status, message, headers = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

function normalizeBase(base) {
  if (typeof base !== "string")
    throw polykvError(
      "ERR_POLYKV_OPTIONS",
      null,
      `server: the base option must be a string such as "/kv/", got ${typeof base}`,
    );
  let path = base.startsWith("/") ? base : `/${base}`;
  if (!path.endsWith("/")) path += "/";
  return path;
}

function checkStore(store) {
  const missing = ["get", "set", "del", "prefix"].filter((name) => typeof store?.[name] !== "function");
  if (missing.length > 0) {
    throw polykvError(
      "ERR_POLYKV_OPTIONS",
      null,
      `server: expected a polykv store such as kv(client), got something without ${missing.map((m) => `.${m}()`).join(", ")}`,
    );
  }
}

function send(res, status, body, headers = {}) {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = body === undefined ? "" : typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(text ? { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) } : {}),
  });
  res.end(text);
}

// The request body as text, at most `limit` bytes. An oversized body is not read
// to the end: the answer is 413 and the connection is closed behind it. `budget`
// ({ used, max }) counts the body bytes every request holds at once: past `max`, 503.
function readBody(req, limit, budget) {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit)
    return Promise.reject(new HttpError(413, `the body is ${declared} bytes; this server accepts at most ${limit}`));
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    const stop = (error) => {
      req.off("data", onData);
      req.pause();
      release();
      reject(error);
    };
    const release = () => {
      budget.used -= size;
      size = 0;
    };
    const onData = (chunk) => {
      size += chunk.length;
      budget.used += chunk.length;
      if (size > limit)
        return stop(new HttpError(413, `the body is over ${limit} bytes, the most this server accepts`));
      if (budget.used > budget.max) return stop(new HttpError(503, "the server holds too many request bodies; retry"));
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => {
      release();
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", (error) => {
      release();
      reject(error);
    });
    // A client that hangs up mid-body: settle, so nothing waits for a body that never comes.
    req.on("close", () => {
      release();
      reject(new HttpError(400, "the connection closed before the body was complete"));
    });
  });
}

function optionError(message) {
  return polykvError("ERR_POLYKV_OPTIONS", null, `server: ${message}`);
}

function positive(options, name) {
  const value = options[name] ?? DEFAULTS[name];
  if (typeof value !== "number" || !(value > 0)) {
    throw optionError(`${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

// Whether a host name or address is this machine's.
function isLoopback(host) {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, "$1");
  if (name === "localhost" || name.endsWith(".localhost") || name === "::1") return true;
  return isIP(name) === 4 && name.startsWith("127.");
}

// The host name of a Host header, without its port.
function hostName(header) {
  const text = String(header ?? "");
  if (text.startsWith("[")) return text.slice(0, text.indexOf("]") + 1);
  const colon = text.lastIndexOf(":");
  return colon < 0 ? text : text.slice(0, colon);
}

// SHA-256 first, so tokens of any length compare in constant time.
const digest = (text) => createHash("sha256").update(text).digest();

function parseExpiresParam(text) {
  if (text === null) return undefined;
  const seconds = text.trim() === "" ? NaN : Number(text);
  if (!Number.isFinite(seconds)) throw new HttpError(400, `expires must be a number of seconds, got "${text}"`);
  return seconds;
}

/** A value as the protocol carries it: JSON, bytes and tag-like objects tagged (see above). */
function toWire(value) {
  if (typeof value !== "object" || value === null) return value;
  if (isBytes(value)) {
    const bytes = asUint8(value);
    return { [TAG]: 1, bytes: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64") };
  }
  return Object.hasOwn(value, TAG) ? { [TAG]: 1, value } : value;
}

/** The value a wire form carries (null stays null). */
function fromWire(wire) {
  if (wire === null || wire === undefined) return null;
  try {
    return openStored(wire, "API").value;
  } catch (error) {
    throw new HttpError(400, error.message);
  }
}

// polykv's operations (POST base/?op=…): each calls the one store method it names.
const OPERATIONS = {
  getRecord: async (store, { key }) => {
    const { value, metadata, expires } = await store.getWithMetadata(key);
    return { value: toWire(value), metadata, expires };
  },
  set: async (store, { key, value, metadata, expires }) => {
    await store.set(key, fromWire(value), { expires, metadata });
    return {};
  },
  cas: async (store, { key, expected, next, expires }) => ({
    swapped: await store.cas(key, fromWire(expected), fromWire(next), { expires }),
  }),
  increment: async (store, { key, by, expires }) => ({ value: await store.increment(key, by, { expires }) }),
  getAndDelete: async (store, { key }) => ({ value: toWire(await store.getAndDelete(key)) }),
  touch: async (store, { key, expires }) => ({ touched: await store.touch(key, { expires }) }),
  getMany: async (store, { keys }) => ({ values: (await store.getMany(keys)).map(toWire) }),
  setMany: async (store, { entries, expires }) => {
    if (!Array.isArray(entries)) throw new HttpError(400, "setMany: entries must be an array of [key, value] pairs");
    await store.setMany(
      entries.map((pair) => (Array.isArray(pair) ? [pair[0], fromWire(pair[1])] : pair)),
      { expires },
    );
    return {};
  },
  delMany: async (store, { keys }) => {
    await store.delMany(keys);
    return {};
  },
  list: (store, { prefix, limit, cursor }) => store.list({ prefix, limit, cursor }),
};
// The operations a `readOnly` server refuses (405), as it refuses PUT and DELETE.
const WRITES = new Set(["set", "cas", "increment", "getAndDelete", "touch", "setMany", "delMany"]);

// The server's limits on an operation's body, as on the plain requests: no key or
// prefix over `maxKeyLength` (400), no more than `maxListing` keys or entries (413).
function checkLimits(name, body, { maxKeyLength, maxListing }) {
  const many = Array.isArray(body.keys) ? body.keys : Array.isArray(body.entries) ? body.entries : [];
  if (many.length > maxListing) {
    throw new HttpError(413, `${name}: more than ${maxListing} keys in one request`);
  }
  const keys = [body.key, body.prefix, ...many.map((item) => (Array.isArray(item) ? item[0] : item))];
  if (keys.some((key) => typeof key === "string" && key.length > maxKeyLength)) {
    throw new HttpError(400, `${name}: a key or prefix is over ${maxKeyLength} characters`);
  }
  // A page is at most maxListing entries: a smaller one than asked, whose cursor says more follow.
  if (typeof body.limit === "number" && body.limit > maxListing) body.limit = maxListing;
}

async function operate(store, name, text, limits) {
  const operation = Object.hasOwn(OPERATIONS, name) ? OPERATIONS[name] : null;
  if (operation === null) {
    throw new HttpError(400, `unknown operation "${String(name).slice(0, 50)}": use one of ${Object.keys(OPERATIONS)}`);
  }
  const method = { getRecord: "getWithMetadata" }[name] ?? name;
  if (typeof store[method] !== "function") {
    throw new HttpError(501, `the served store has no ${method}() (a polykv store has every operation)`);
  }
  let body;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the body is not valid JSON: ${error.message}`);
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new HttpError(400, `the body of ${name} must be a JSON object`);
  }
  checkLimits(name, body, limits);
  try {
    return await operation(store, body);
  } catch (error) {
    // The store refused the operation (a non-number to increment, a bad value…):
    // the answer carries its code, so the client raises the same error.
    if (typeof error?.code === "string" && error.code.startsWith("ERR_POLYKV_")) {
      return { refused: { code: error.code, message: error.message } };
    }
    throw error;
  }
}

/**
 * A Node request handler `(req, res) => void` serving `store`; mount it in any
 * Node HTTP server (or `app.use(handler)` in express, with `base` matching the
 * mount path as seen in `req.url`).
 *
 * @param {object} store A polykv store (anything with get, set, del and prefix, such as a polystore store).
 * @param {ServerOptions} [options]
 * @returns {(req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void}
 */
function createHandler(store, options = {}) {
  checkStore(store);
  const base = normalizeBase(options.base ?? "/");
  const maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY;
  if (!Number.isSafeInteger(maxBodySize) || maxBodySize < 0) {
    throw polykvError(
      "ERR_POLYKV_OPTIONS",
      null,
      `server: maxBodySize must be a whole number of bytes, got ${maxBodySize}`,
    );
  }
  const cors = options.cors === true ? "*" : typeof options.cors === "string" ? options.cors : null;
  const corsHeaders = cors ? { "access-control-allow-origin": cors } : {};
  const { token, readOnly = false, hosts } = options;
  if (token !== undefined && (typeof token !== "string" || token === "")) {
    throw optionError("token must be a non-empty string");
  }
  if (hosts !== undefined && !(Array.isArray(hosts) && hosts.every((h) => typeof h === "string"))) {
    throw optionError("hosts must be an array of host names");
  }
  const allowedHosts = hosts && new Set(hosts.map((h) => h.toLowerCase()));
  const tokenDigest = token === undefined ? null : digest(`Bearer ${token}`);
  const maxKeyLength = positive(options, "maxKeyLength");
  const maxListing = positive(options, "maxListing");
  const budget = { used: 0, max: positive(options, "maxBuffered") };
  const onError =
    typeof options.onError === "function"
      ? options.onError
      : (error, req) => console.error(`[polykv/server] 500 on ${req.method} ${req.url?.slice(0, 200)}:`, error);

  // Who may ask: the Host check (DNS rebinding), then the token.
  function admit(req) {
    const host = hostName(req.headers.host).toLowerCase();
    const known = allowedHosts ? allowedHosts.has(host) : tokenDigest !== null || isLoopback(host);
    if (!known) throw new HttpError(403, "this server does not answer to that Host header");
    if (tokenDigest !== null) {
      const given = req.headers.authorization;
      if (typeof given !== "string" || !timingSafeEqual(digest(given), tokenDigest)) {
        throw new HttpError(401, "a valid Authorization: Bearer token is required", {
          "www-authenticate": "Bearer",
        });
      }
    }
  }

  // The entries of a listing: the first `limit` in key order after `after`, and the
  // cursor of the next page (null when none follows). Unpaged, at most maxListing.
  async function listing(prefix, query) {
    const limitText = query.get("limit");
    const after = query.get("after");
    const sub = store.prefix(prefix);
    if (limitText === null && after === null) {
      const entries = await sub.entries();
      if (entries.length > maxListing) {
        throw new HttpError(413, `more than ${maxListing} entries: page with ?limit=<n>&after=<cursor>`);
      }
      return { entries, next: null };
    }
    let limit = limitText === null ? maxListing : Number(limitText);
    if (!Number.isSafeInteger(limit) || limit < 1) throw new HttpError(400, "limit must be a whole number above 0");
    limit = Math.min(limit, maxListing); // a smaller page than asked: the cursor says more follow
    const keys = (await sub.keys()).filter((key) => after === null || key > after).sort();
    const page = keys.slice(0, limit);
    const values = await Promise.all(page.map((key) => sub.get(key)));
    const entries = [];
    for (let i = 0; i < page.length; i++) if (values[i] !== null) entries.push([page[i], values[i]]);
    return { entries, next: keys.length > limit ? page[page.length - 1] : null };
  }

  async function handle(req, res) {
    const target = req.url ?? "/";
    const mark = target.indexOf("?");
    const path = mark < 0 ? target : target.slice(0, mark);
    const query = new URLSearchParams(mark < 0 ? "" : target.slice(mark + 1));
    if (!path.startsWith(base)) throw new HttpError(404, `nothing here: the store is served under ${base}`);
    const method = req.method;

    // Browsers send preflights without credentials: answered before the token check.
    if (method === "OPTIONS" && cors) {
      send(res, 204, undefined, {
        ...corsHeaders,
        "access-control-allow-methods": readOnly ? "GET, HEAD, POST" : "GET, HEAD, PUT, DELETE, POST",
        "access-control-allow-headers": "content-type, accept, authorization",
        "access-control-expose-headers": "x-polykv-next",
        "access-control-max-age": "86400",
      });
      return;
    }
    admit(req);

    const rest = path.slice(base.length);
    if (rest === "" && method === "POST" && query.has("op")) {
      const op = query.get("op");
      if (readOnly && WRITES.has(op)) {
        throw new HttpError(405, `this server is read-only: ${op} writes`, { allow: "GET, HEAD, POST" });
      }
      const body = await readBody(req, maxBodySize, budget);
      const answer = await operate(store, op, body, { maxKeyLength, maxListing });
      send(res, 200, answer, corsHeaders);
      return;
    }
    if (rest === "") {
      if (method !== "GET" && method !== "HEAD") {
        throw new HttpError(405, `${method} is not allowed on ${base}: GET ${base}?prefix=… lists entries`, {
          allow: "GET, HEAD",
        });
      }
      const prefix = query.get("prefix") ?? "";
      if (prefix.length > maxKeyLength) throw new HttpError(400, `the prefix is over ${maxKeyLength} characters`);
      const { entries, next } = await listing(prefix, query);
      const headers = next === null ? corsHeaders : { ...corsHeaders, "x-polykv-next": encodeURIComponent(next) };
      send(res, 200, Object.fromEntries(entries.map(([key, value]) => [key, toWire(value)])), headers);
      return;
    }

    let key;
    try {
      key = decodeURIComponent(rest);
    } catch {
      throw new HttpError(400, `the key in the path is not valid URI encoding: ${rest.slice(0, 100)}`);
    }
    if (key.length > maxKeyLength) throw new HttpError(400, `the key is over ${maxKeyLength} characters`);
    if (readOnly && (method === "PUT" || method === "DELETE")) {
      throw new HttpError(405, "this server is read-only", { allow: "GET, HEAD" });
    }

    switch (method) {
      case "GET":
      case "HEAD": {
        const value = await store.get(key);
        if (value === null || value === undefined) throw new HttpError(404, `no value for key "${key.slice(0, 100)}"`);
        send(res, 200, JSON.stringify(toWire(value)), corsHeaders);
        return;
      }
      case "PUT": {
        const expires = parseExpiresParam(query.get("expires"));
        const text = await readBody(req, maxBodySize, budget);
        if (text.trim() === "") throw new HttpError(400, "the body must be the value's JSON; it is empty");
        let value;
        try {
          value = JSON.parse(text);
        } catch (error) {
          throw new HttpError(400, `the body is not valid JSON: ${error.message}`);
        }
        await store.set(key, fromWire(value), expires === undefined ? undefined : { expires });
        send(res, 204, undefined, corsHeaders);
        return;
      }
      case "DELETE":
        await store.del(key);
        send(res, 204, undefined, corsHeaders);
        return;
      default:
        throw new HttpError(405, `${method} is not allowed: use GET, PUT or DELETE on ${base}<key>`, {
          allow: "GET, HEAD, PUT, DELETE",
        });
    }
  }

  return function polykvHandler(req, res) {
    req.on("error", () => {}); // a client that goes away is not our error
    handle(req, res).catch((error) => {
      const status = error instanceof HttpError ? error.status : error instanceof TypeError ? 400 : 500;
      const headers = { ...corsHeaders, ...(error instanceof HttpError ? error.headers : {}) };
      // A body we did not read to the end must not be parsed as the next request.
      if (status === 413 || status === 503 || ((req.method === "PUT" || req.method === "POST") && !req.complete))
        headers.connection = "close";
      // A failing store's message may hold paths or keys: it goes to the log, not to the client.
      let message = error?.message ?? String(error);
      if (status === 500) {
        message = "the store failed; the server's log has the details";
        try {
          onError(error, req);
        } catch {
          // a failing log hook must not take the answer down with it
        }
      }
      try {
        send(res, status, { error: message }, headers);
      } catch {
        res.destroy();
      }
    });
  };
}

/**
 * A Node `http.Server` serving `store`; call `.listen(port, host)` on it, or use
 * {@link listen} to do both and get the URL.
 *
 * @param {object} store A polykv store.
 * @param {ServerOptions} [options]
 * @returns {import("node:http").Server}
 */
function createServer(store, options = {}) {
  const handler = createHandler(store, options);
  const headersTimeout = positive(options, "headersTimeout");
  const requestTimeout = positive(options, "requestTimeout");
  const limits = {
    headersTimeout: Math.min(headersTimeout, requestTimeout),
    requestTimeout,
    // How often Node checks those timeouts (its default, 30 s, would let them run late).
    connectionsCheckingInterval: Math.min(1000, headersTimeout),
  };
  if (options.tls !== undefined && (options.tls === null || typeof options.tls !== "object")) {
    throw optionError("tls must be an object of https.createServer options (key, cert, …)");
  }
  const server = options.tls
    ? https.createServer({ ...options.tls, ...limits }, handler)
    : http.createServer(limits, handler);
  server.maxConnections = positive(options, "maxConnections");
  // Keep a malformed request or a dropped connection from surfacing as an error.
  server.on("clientError", (error, socket) => {
    if (socket.writable && !socket.destroyed) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });
  return server;
}

/**
 * Serves `store` on a port and resolves once it listens.
 *
 * @param {object} store A polykv store.
 * @param {ServerOptions & ListenOptions} [options]
 * @returns {Promise<Listening>}
 */
function listen(store, options = {}) {
  const { port = 0, host = "127.0.0.1" } = options;
  if (!isLoopback(host) && options.token === undefined) {
    throw optionError(
      `listen() on ${host} would serve the network without authentication: pass a token (kv(url, { token }) on the client side), or bind 127.0.0.1`,
    );
  }
  const server = createServer(store, options);
  const base = normalizeBase(options.base ?? "/");
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    // A long backlog: a burst of new connections waits instead of being dropped.
    server.listen({ port, host, backlog: 4096 }, () => {
      server.off("error", reject);
      const address = server.address();
      const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({
        server,
        port: address.port,
        url: `${options.tls ? "https" : "http"}://${shown}:${address.port}${base}`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

module.exports = { createHandler, createServer, listen };

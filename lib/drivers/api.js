"use strict";
// `kv("https://host/base/")`: a store kept by an HTTP server that speaks
// polystore's API protocol (docs/behaviour.md §25), such as `polykv/server`:
//   GET    base/<encoded key>                 → 200 with the value's JSON, 404 when missing
//   PUT    base/<encoded key>[?expires=<s>]   with the value's JSON as the body
//   DELETE base/<encoded key>
//   GET    base/?prefix=<encoded prefix>      → { "<key without prefix>": value, … }
//   POST   base/?op=<operation>               polykv's operations (lib/server.js):
//          getRecord, set (with metadata or bytes), cas, increment, getAndDelete,
//          getMany, setMany, delMany, list
// Requests go through the global `fetch`; `kv()` itself sends none. A plain set is
// polystore's PUT, so a polystore server keeps working for get/set/del/listing; the
// rest is one POST each, carried out by the served store's own method, so it is as
// atomic as that store (one request; across every client of the server). Binary
// values and objects with a "$polykv" key travel as lib/record.js's tagged JSON.
//
// Options (`kv(url, { timeout, token })`, docs/behaviour.md §36): each request,
// body included, is aborted after `timeout` ms (default 10 s) through an
// AbortSignal; `token` is sent as `Authorization: Bearer <token>`. Redirects are
// never followed (a 307 would send a PUT body and the token to another origin): a
// 3xx is an error naming where it pointed. The empty full key is refused: its URL
// is the listing's.
//
// Unlike polystore, which reads every failed request as "missing" and ignores
// failed writes, a failure other than 404 rejects with an error that names the
// request and the status: a write the server refused is never reported as done.

const { watchCalls } = require("../link.js");
const { capabilities } = require("../contract.js");
const { CODES, polykvError, describe } = require("../errors.js");
const { remainingMs } = require("../rules.js");
const { TAG } = require("../record.js");

// Not ordered (the served store may not be); atomic, bytes and metadata as the
// served store keeps them, through polykv's operations.
const CAPS = capabilities({ atomic: true, bytes: true, metadata: true });

// The protocol's `expires`: seconds from now, or null for never.
const secondsOf = (expiresAt) => (expiresAt === null ? null : remainingMs(expiresAt) / 1000);

// A stored form (JSON text, or bytes) as the protocol's JSON text.
function wireText(stored) {
  if (typeof stored === "string") return stored;
  const base64 = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString("base64");
  return `{"${TAG}":1,"bytes":"${base64}"}`;
}

const HEADERS = { accept: "application/json", "content-type": "application/json" };
const TIMEOUT = 10_000; // ms, per request, body included
const PAGE = 1000; // entries per listing request (servers that do not page answer them all)
// Requests in flight per store; the rest wait their turn. A burst of thousands of
// calls would otherwise open as many connections, past any server's connection cap.
const IN_FLIGHT = 64;

// The empty full key has the listing's URL (base/): `get("")` would read the whole store.
function checked(key) {
  if (key === "") throw polykvError("ERR_POLYKV_KEY", "API", "the empty key cannot be sent: its URL is the listing's");
  return key;
}

class ApiDriver {
  type = "API";
  caps = CAPS;
  #base;
  #headers = HEADERS;
  #timeout = TIMEOUT;
  #active = 0;
  #queue = []; // resolvers of requests waiting for a turn, oldest first

  constructor(url, options = {}) {
    this.#base = url.replace(/\/$/, "");
    const { timeout = TIMEOUT, token } = options;
    if (typeof timeout !== "number" || !(timeout > 0)) {
      throw polykvError(
        "ERR_POLYKV_OPTIONS",
        "API",
        `timeout must be a positive number of ms, got ${describe(timeout)}`,
      );
    }
    this.#timeout = timeout;
    if (token !== undefined) {
      if (typeof token !== "string" || token === "" || /[\r\n]/.test(token)) {
        throw polykvError("ERR_POLYKV_OPTIONS", "API", "token must be a non-empty string on one line");
      }
      this.#headers = { ...HEADERS, authorization: `Bearer ${token}` };
    }
  }

  // Sends `method` to base/<encoded key><query> (at most IN_FLIGHT at once) and reads
  // the whole answer under one deadline: { text, headers }, or null for a 404.
  async #request(method, key, query, body) {
    if (this.#active < IN_FLIGHT) this.#active++;
    else await new Promise((resolve) => this.#queue.push(resolve)); // a finished request hands its turn over
    try {
      return await this.#send(method, key, query, body);
    } finally {
      const next = this.#queue.shift();
      if (next) next();
      else this.#active--;
    }
  }

  // One request; the deadline starts when it is sent.
  async #send(method, key, query = "", body = undefined) {
    const url = `${this.#base}/${encodeURIComponent(key)}${query}`;
    const signal = this.#timeout === Infinity ? undefined : AbortSignal.timeout(this.#timeout);
    let response;
    let text;
    try {
      response = await fetch(url, { method, headers: this.#headers, body, redirect: "manual", signal });
      text = await response.text();
    } catch (error) {
      const why = signal?.aborted
        ? `no answer within ${this.#timeout} ms`
        : error?.cause?.message || error?.message || String(error);
      throw polykvError("ERR_POLYKV_CONNECTION", "API", `${method} ${url} failed: ${why}`, { cause: error });
    }
    if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
      const to = response.headers.get("location");
      throw polykvError(
        "ERR_POLYKV_BACKEND",
        "API",
        `${method} ${url} answered a redirect (${response.status})${to ? ` to ${to}` : ""}; polykv does not follow redirects: use the final URL`,
      );
    }
    if (response.status === 404) return null;
    if (!response.ok) {
      const detail = text.slice(0, 200);
      const status = `${response.status} ${response.statusText}${detail ? `: ${detail}` : ""}`;
      throw polykvError("ERR_POLYKV_BACKEND", "API", `${method} ${url} answered ${status}`);
    }
    return { text, headers: response.headers };
  }

  // The answer's body as JSON; an empty body (or a 404) is null.
  #json(answer) {
    return answer === null || answer.text === "" ? null : JSON.parse(answer.text);
  }

  async get(key) {
    return this.#json(await this.#request("GET", checked(key)));
  }

  // One of polykv's operations: POST base/?op=<op> with `body` (JSON text); its answer.
  async #operate(op, body) {
    const answer = this.#json(await this.#request("POST", "", `?op=${op}`, body));
    if (answer === null || typeof answer !== "object") {
      throw polykvError(
        "ERR_POLYKV_BACKEND",
        "API",
        `POST ${this.#base}/?op=${op} answered ${answer === null ? "nothing (404)" : typeof answer}: the server does not speak polykv's operations (polykv/server does)`,
      );
    }
    if (answer.refused) {
      const { code, message } = answer.refused;
      throw polykvError(code in CODES ? code : "ERR_POLYKV_BACKEND", "API", String(message), { verbatim: true });
    }
    return answer;
  }

  async set(key, stored, expiresAt, seconds, metadata) {
    if (typeof stored === "string" && metadata === undefined) {
      // polystore's PUT; the protocol takes seconds from now.
      const query = expiresAt === null ? "" : `?expires=${secondsOf(expiresAt)}`;
      await this.#request("PUT", checked(key), query, stored);
      return;
    }
    const meta = metadata === undefined ? "" : `,"metadata":${metadata}`;
    const expires = JSON.stringify(secondsOf(expiresAt));
    await this.#operate(
      "set",
      `{"key":${JSON.stringify(checked(key))},"value":${wireText(stored)}${meta},"expires":${expires}}`,
    );
  }

  async getRecord(key) {
    const { value, metadata, expires } = await this.#operate("getRecord", JSON.stringify({ key: checked(key) }));
    if (value === null || value === undefined) return null;
    return { value, expiresAt: expires ?? null, metadata: metadata ?? undefined };
  }

  // The stored value's JSON text (what swap sends back to compare), null when missing.
  async getRaw(key) {
    const { value } = await this.#operate("getRecord", JSON.stringify({ key: checked(key) }));
    return value === null || value === undefined ? null : JSON.stringify(value);
  }

  // The server's own cas(): it compares (JSON deep equality) and swaps on its store.
  async swap(key, seen, next, expiresAt) {
    const expected = seen === null ? "null" : wireText(seen);
    const body = `{"key":${JSON.stringify(checked(key))},"expected":${expected},"next":${next === null ? "null" : wireText(next)}`;
    // (undefined keeps the deadline: only lib/atomic.js's own increment and take ask
    // for that, and this driver has both; the served store's default applies.)
    const expires = expiresAt === undefined ? "" : `,"expires":${JSON.stringify(secondsOf(expiresAt))}`;
    return (await this.#operate("cas", `${body}${expires}}`)).swapped === true;
  }

  async increment(key, by, expiresAt) {
    return (await this.#operate("increment", JSON.stringify({ key: checked(key), by, expires: secondsOf(expiresAt) })))
      .value;
  }

  async getAndDelete(key) {
    return (await this.#operate("getAndDelete", JSON.stringify({ key: checked(key) }))).value ?? null;
  }

  // The served store's touch(): the value and metadata stay on the server.
  async touch(key, expiresAt) {
    const body = JSON.stringify({ key: checked(key), expires: secondsOf(expiresAt) });
    return (await this.#operate("touch", body)).touched === true;
  }

  async getMany(keys) {
    return (await this.#operate("getMany", JSON.stringify({ keys: keys.map(checked) }))).values;
  }

  // One request per expiry (the facade gives every write of a setMany the same one).
  async setMany(writes) {
    const groups = new Map();
    for (const [key, stored, expiresAt] of writes) {
      const entry = `[${JSON.stringify(checked(key))},${stored === null ? "null" : wireText(stored)}]`;
      groups.set(expiresAt, [...(groups.get(expiresAt) ?? []), entry]);
    }
    for (const [expiresAt, entries] of groups) {
      const expires = JSON.stringify(secondsOf(expiresAt));
      await this.#operate("setMany", `{"entries":[${entries.join(",")}],"expires":${expires}}`);
    }
  }

  async delMany(keys) {
    await this.#operate("delMany", JSON.stringify({ keys: keys.map(checked) }));
  }

  // A list() page is the served store's own list() page, cursor included.
  async listPage(prefix, after, limit) {
    const page = await this.#operate("list", JSON.stringify({ prefix, limit, cursor: after ?? undefined }));
    const records = page.keys.map(({ name, expiration, metadata }) => [
      name,
      undefined,
      typeof expiration === "number" ? expiration * 1000 : null,
      metadata,
    ]);
    return { records, next: page.list_complete ? null : page.cursor };
  }

  async del(key) {
    await this.#request("DELETE", checked(key));
  }

  async has(key) {
    return (await this.get(key)) !== null;
  }

  // Pages of PAGE entries, following the server's `x-polykv-next` cursor; a server
  // that does not page (polystore's protocol) answers everything at once, without one.
  async entries(prefix = "") {
    const list = [];
    let after = null;
    do {
      const query = `?prefix=${encodeURIComponent(prefix)}&limit=${PAGE}${after === null ? "" : `&after=${after}`}`;
      const answer = await this.#request("GET", "", query);
      const found = this.#json(answer);
      if (found === null) return list;
      if (typeof found !== "object" || Array.isArray(found)) {
        const shape = Array.isArray(found) ? "an array" : typeof found;
        throw polykvError(
          "ERR_POLYKV_BACKEND",
          "API",
          `GET ${this.#base}/?prefix=… answered with ${shape}, not an object of entries`,
        );
      }
      for (const key of Object.keys(found)) if (found[key] !== null) list.push([prefix + key, found[key]]);
      after = answer.headers.get("x-polykv-next");
    } while (after !== null);
    return list;
  }

  async *iterate(prefix = "") {
    yield* await this.entries(prefix);
  }

  async keys(prefix = "") {
    return (await this.entries(prefix)).map((entry) => entry[0]);
  }

  async values(prefix = "") {
    return (await this.entries(prefix)).map((entry) => entry[1]);
  }

  // The protocol has no bulk delete: list the keys, then delete them 32 at a time.
  async clear(prefix = "") {
    const keys = await this.keys(prefix);
    for (let i = 0; i < keys.length; i += 32) {
      await Promise.all(keys.slice(i, i + 32).map((key) => this.del(key)));
    }
  }
}

module.exports = {
  name: "API",
  test: (input) => typeof input === "string" && /^https?:\/\//i.test(input),
  // A request that never reached the server (fetch failed) is a lost connection.
  create: (url, options) => watchCalls(new ApiDriver(url, options), (error) => error?.code === "ERR_POLYKV_CONNECTION"),
};

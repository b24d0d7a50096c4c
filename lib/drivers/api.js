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
// Unlike polystore, which reads every failed request as "missing" and ignores
// failed writes, a failure other than 404 rejects with an error that names the
// request and the status: a write the server refused is never reported as done.

const { watchCalls } = require("../link.js");
const { capabilities } = require("../contract.js");
const { CODES, polykvError } = require("../errors.js");
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

class ApiDriver {
  type = "API";
  caps = CAPS;
  #base;

  constructor(url) {
    this.#base = url.replace(/\/$/, "");
  }

  // The response to `method` on base/<encoded key><query>; 404 resolves to null.
  async #request(method, key, query = "", body = undefined) {
    const url = `${this.#base}/${encodeURIComponent(key)}${query}`;
    let response;
    try {
      response = await fetch(url, { method, headers: HEADERS, body });
    } catch (error) {
      const why = error?.cause?.message || error?.message || String(error);
      throw polykvError("ERR_POLYKV_CONNECTION", "API", `${method} ${url} failed: ${why}`, { cause: error });
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      const detail = (await response.text().catch(() => "")).slice(0, 200);
      const status = `${response.status} ${response.statusText}${detail ? `: ${detail}` : ""}`;
      throw polykvError("ERR_POLYKV_BACKEND", "API", `${method} ${url} answered ${status}`);
    }
    return response;
  }

  // The response body as JSON; an empty body is null.
  async #json(response) {
    if (response === null) return null;
    const text = await response.text();
    return text === "" ? null : JSON.parse(text);
  }

  async get(key) {
    return this.#json(await this.#request("GET", key));
  }

  // One of polykv's operations: POST base/?op=<op> with `body` (JSON text); its answer.
  async #operate(op, body) {
    const answer = await this.#json(await this.#request("POST", "", `?op=${op}`, body));
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
      const response = await this.#request("PUT", key, query, stored);
      await response?.body?.cancel();
      return;
    }
    const meta = metadata === undefined ? "" : `,"metadata":${metadata}`;
    const expires = JSON.stringify(secondsOf(expiresAt));
    await this.#operate(
      "set",
      `{"key":${JSON.stringify(key)},"value":${wireText(stored)}${meta},"expires":${expires}}`,
    );
  }

  async getRecord(key) {
    const { value, metadata, expires } = await this.#operate("getRecord", JSON.stringify({ key }));
    if (value === null || value === undefined) return null;
    return { value, expiresAt: expires ?? null, metadata: metadata ?? undefined };
  }

  // The stored value's JSON text (what swap sends back to compare), null when missing.
  async getRaw(key) {
    const { value } = await this.#operate("getRecord", JSON.stringify({ key }));
    return value === null || value === undefined ? null : JSON.stringify(value);
  }

  // The server's own cas(): it compares (JSON deep equality) and swaps on its store.
  async swap(key, seen, next, expiresAt) {
    const expected = seen === null ? "null" : wireText(seen);
    const body = `{"key":${JSON.stringify(key)},"expected":${expected},"next":${next === null ? "null" : wireText(next)}`;
    // (undefined keeps the deadline: only lib/atomic.js's own increment and take ask
    // for that, and this driver has both; the served store's default applies.)
    const expires = expiresAt === undefined ? "" : `,"expires":${JSON.stringify(secondsOf(expiresAt))}`;
    return (await this.#operate("cas", `${body}${expires}}`)).swapped === true;
  }

  async increment(key, by, expiresAt) {
    return (await this.#operate("increment", JSON.stringify({ key, by, expires: secondsOf(expiresAt) }))).value;
  }

  async getAndDelete(key) {
    return (await this.#operate("getAndDelete", JSON.stringify({ key }))).value ?? null;
  }

  // The served store's touch(): the value and metadata stay on the server.
  async touch(key, expiresAt) {
    return (await this.#operate("touch", JSON.stringify({ key, expires: secondsOf(expiresAt) }))).touched === true;
  }

  async getMany(keys) {
    return (await this.#operate("getMany", JSON.stringify({ keys }))).values;
  }

  // One request per expiry (the facade gives every write of a setMany the same one).
  async setMany(writes) {
    const groups = new Map();
    for (const [key, stored, expiresAt] of writes) {
      const entry = `[${JSON.stringify(key)},${stored === null ? "null" : wireText(stored)}]`;
      groups.set(expiresAt, [...(groups.get(expiresAt) ?? []), entry]);
    }
    for (const [expiresAt, entries] of groups) {
      const expires = JSON.stringify(secondsOf(expiresAt));
      await this.#operate("setMany", `{"entries":[${entries.join(",")}],"expires":${expires}}`);
    }
  }

  async delMany(keys) {
    await this.#operate("delMany", JSON.stringify({ keys }));
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
    const response = await this.#request("DELETE", key);
    await response?.body?.cancel();
  }

  async has(key) {
    return (await this.get(key)) !== null;
  }

  async entries(prefix = "") {
    const found = await this.#json(await this.#request("GET", "", `?prefix=${encodeURIComponent(prefix)}`));
    if (found === null) return [];
    if (typeof found !== "object" || Array.isArray(found)) {
      const shape = Array.isArray(found) ? "an array" : typeof found;
      throw polykvError(
        "ERR_POLYKV_BACKEND",
        "API",
        `GET ${this.#base}/?prefix=… answered with ${shape}, not an object of entries`,
      );
    }
    const list = [];
    for (const key of Object.keys(found)) if (found[key] !== null) list.push([prefix + key, found[key]]);
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
  create: (url) => watchCalls(new ApiDriver(url), (error) => error?.code === "ERR_POLYKV_CONNECTION"),
};

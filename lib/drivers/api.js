"use strict";
// `kv("https://host/base/")`: a store kept by an HTTP server that speaks
// polystore's API protocol (CONTRACT §25), such as `polykv/server`:
//   GET    base/<encoded key>                 → 200 with the value's JSON, 404 when missing
//   PUT    base/<encoded key>[?expires=<s>]   with the value's JSON as the body
//   DELETE base/<encoded key>
//   GET    base/?prefix=<encoded prefix>      → { "<key without prefix>": value, … }
// Requests go through the global `fetch`; `kv()` itself sends none.
//
// Unlike polystore, which reads every failed request as "missing" and ignores
// failed writes, a failure other than 404 rejects with an error that names the
// request and the status: a write the server refused is never reported as done.

const { encode } = require("../json.js");

const HEADERS = { accept: "application/json", "content-type": "application/json" };

class ApiDriver {
  static test(input) {
    return typeof input === "string" && /^https?:\/\//i.test(input);
  }

  TYPE = "API";
  HAS_EXPIRATION = true;
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
      throw new Error(`[polykv] [API] ${method} ${url} failed: ${why}`, { cause: error });
    }
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok) {
      const detail = (await response.text().catch(() => "")).slice(0, 200);
      throw new Error(`[polykv] [API] ${method} ${url} answered ${response.status} ${response.statusText}${detail ? `: ${detail}` : ""}`);
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

  async set(key, value, seconds) {
    const query = typeof seconds === "number" ? `?expires=${seconds}` : "";
    const response = await this.#request("PUT", key, query, encode(key, value));
    await response?.body?.cancel();
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
      throw new Error(`[polykv] [API] GET ${this.#base}/?prefix=… answered with ${Array.isArray(found) ? "an array" : typeof found}, not an object of entries`);
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

module.exports = ApiDriver;

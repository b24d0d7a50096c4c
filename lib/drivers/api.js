"use strict";
// `kv("https://host/base/")`: a store kept by an HTTP server that speaks
// polystore's API protocol (docs/behaviour.md §25), such as `polykv/server`:
//   GET    base/<encoded key>                 → 200 with the value's JSON, 404 when missing
//   PUT    base/<encoded key>[?expires=<s>]   with the value's JSON as the body
//   DELETE base/<encoded key>
//   GET    base/?prefix=<encoded prefix>      → { "<key without prefix>": value, … }
// Requests go through the global `fetch`; `kv()` itself sends none.
//
// Unlike polystore, which reads every failed request as "missing" and ignores
// failed writes, a failure other than 404 rejects with an error that names the
// request and the status: a write the server refused is never reported as done.

const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { remainingMs } = require("../rules.js");

// As the served store keeps it; the protocol has no ordered listing and no atomic update.
const CAPS = capabilities({});

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

  async set(key, text, expiresAt) {
    // The protocol takes seconds from now.
    const query = expiresAt === null ? "" : `?expires=${remainingMs(expiresAt) / 1000}`;
    const response = await this.#request("PUT", key, query, text);
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
  create: (url) => new ApiDriver(url),
};

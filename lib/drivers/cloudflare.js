"use strict";
// A Cloudflare Workers KV namespace binding (or anything with its API, such as
// miniflare's KVNamespace). As polystore stores it: key = full key, value = the
// value's JSON text, expiry as KV's own `expirationTtl`, so KV expires records
// itself. KV only accepts a TTL of at least 60 seconds; a shorter one is refused
// with an error before anything is written (polystore rounds a TTL under half a
// second down to 0 and then stores the value forever; we refuse that too).

const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { remainingMs } = require("../rules.js");
const { decode } = require("../json.js");

const MIN_TTL = 60;
// KV expires records itself, in whole seconds and no sooner than 60 s; eventually
// consistent, so nothing is atomic.
const CAPS = capabilities({ expiryMs: false, expiresItself: true });

class CloudflareDriver {
  type = "CLOUDFLARE";
  caps = CAPS;
  #kv;

  constructor(namespace) {
    this.#kv = namespace;
  }

  async get(key) {
    const text = await this.#kv.get(key);
    return text === "" ? null : decode("CLOUDFLARE", key, text);
  }

  async set(key, text, expiresAt) {
    if (expiresAt === null) return void (await this.#kv.put(key, text));
    const ttl = Math.round(remainingMs(expiresAt) / 1000);
    if (ttl < MIN_TTL) {
      throw polykvError(
        "ERR_POLYKV_UNSUPPORTED",
        "CLOUDFLARE",
        `Cloudflare's min expiration is '60s': cannot expire key "${key}" after ${ttl}s`,
      );
    }
    await this.#kv.put(key, text, { expirationTtl: ttl });
  }

  del(key) {
    return this.#kv.delete(key);
  }

  async has(key) {
    return (await this.#kv.get(key)) !== null;
  }

  // The key names under `prefix`, one page of `list()` (up to 1 000) at a time.
  async *#pages(prefix) {
    let cursor;
    do {
      const page = await this.#kv.list(cursor ? { prefix, cursor } : { prefix });
      yield page.keys.map((entry) => entry.name);
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
  }

  // Values are read a page at a time, in parallel; a key that expired or was
  // deleted between list() and get() is skipped.
  async *iterate(prefix = "") {
    for await (const names of this.#pages(prefix)) {
      const values = await Promise.all(names.map((name) => this.get(name)));
      for (let i = 0; i < names.length; i++) if (values[i] !== null) yield [names[i], values[i]];
    }
  }

  async entries(prefix = "") {
    const list = [];
    for await (const entry of this.iterate(prefix)) list.push(entry);
    return list;
  }

  async keys(prefix = "") {
    const list = [];
    for await (const names of this.#pages(prefix)) list.push(...names);
    return list;
  }

  async values(prefix = "") {
    return (await this.entries(prefix)).map((entry) => entry[1]);
  }

  // KV has no bulk delete in the Workers binding: delete each listed key. The
  // listing is read in full first so deleting cannot disturb the cursor.
  async clear(prefix = "") {
    const names = await this.keys(prefix);
    for (let i = 0; i < names.length; i += 100) {
      await Promise.all(names.slice(i, i + 100).map((name) => this.#kv.delete(name)));
    }
  }
}

const METHODS = ["getWithMetadata", "get", "list", "delete"];

module.exports = {
  name: "CLOUDFLARE",
  test: (input) => Boolean(input && typeof input === "object" && METHODS.every((m) => typeof input[m] === "function")),
  create: (namespace) => new CloudflareDriver(namespace),
};

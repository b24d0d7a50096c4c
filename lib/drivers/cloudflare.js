"use strict";
// A Cloudflare Workers KV namespace binding (or anything with its API, such as
// miniflare's KVNamespace). As polystore stores it: key = full key, value = the
// value's JSON text, expiry as KV's own `expirationTtl`, so KV expires records
// itself. KV only accepts a TTL of at least 60 seconds; a shorter one is refused
// with an error before anything is written (polystore rounds a TTL under half a
// second down to 0 and then stores the value forever; we refuse that too).
//
// KV's own data model is used as it is: metadata is KV's metadata (set with put,
// read by getWithMetadata and list, exactly as the namespace answers), deadlines
// are KV's `expiration` (whole seconds, read from list(): KV's get does not say),
// and list() pages are KV's own list() with its cursor. A binary value is stored
// as bytes: a zero byte (which no JSON text starts with), then the bytes, so up to
// 25 MiB less one byte (KV's value limit); polystore cannot read such a record.

const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { codePointLess } = require("../list.js");
const { decode } = require("../json.js");

const MIN_TTL = 60;
// KV expires records itself, in whole seconds and no sooner than 60 s; eventually
// consistent, so nothing is atomic (in this process, increment and getAndDelete are
// serialized by the facade).
const CAPS = capabilities({ expiryMs: false, expiresItself: true, bytes: true, metadata: true });

const fromUtf8 = new TextDecoder();

// What get() reads from a stored value (an ArrayBuffer, or null when missing).
function valueOf(key, buffer) {
  if (buffer === null || buffer === undefined || buffer.byteLength === 0) return null;
  const bytes = new Uint8Array(buffer);
  if (bytes[0] === 0) return bytes.subarray(1);
  return decode("CLOUDFLARE", key, fromUtf8.decode(bytes));
}

// What put() stores for a stored form: the JSON text, or the marked bytes.
function storedOf(stored) {
  if (typeof stored === "string") return stored;
  const marked = new Uint8Array(stored.byteLength + 1);
  marked.set(stored, 1);
  return marked;
}

// A listed key as a list() record: [name, value unread, deadline, metadata].
const recordOf = (entry) => [entry.name, undefined, deadlineOf(entry), entry.metadata];

// A page cursor of ours: [KV's cursor or null, the last name listed].
function openCursor(text) {
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || (parsed[1] !== null && typeof parsed[1] !== "string")) {
    throw polykvError("ERR_POLYKV_OPTIONS", null, "list() cursor is not one that list() returned");
  }
  return parsed;
}

const INT32_MAX = 2 ** 31 - 1;
const deadlineOf = (entry) => (typeof entry?.expiration === "number" ? entry.expiration * 1000 : null);

class CloudflareDriver {
  type = "CLOUDFLARE";
  caps = CAPS;
  #kv;

  constructor(namespace) {
    this.#kv = namespace;
  }

  async get(key) {
    return valueOf(key, await this.#kv.get(key, "arrayBuffer"));
  }

  // The value and metadata from getWithMetadata, the deadline from list() (the
  // first key listed under a key is the key itself), asked together.
  async getRecord(key) {
    const [found, listed] = await Promise.all([
      this.#kv.getWithMetadata(key, "arrayBuffer"),
      this.#kv.list({ prefix: key, limit: 1 }),
    ]);
    const value = valueOf(key, found.value);
    if (value === null) return null;
    const entry = listed.keys[0]?.name === key ? listed.keys[0] : null;
    return { value, expiresAt: deadlineOf(entry), metadata: found.metadata ?? undefined };
  }

  async set(key, stored, expiresAt, seconds, metadata) {
    const options = metadata === undefined ? {} : { metadata: JSON.parse(metadata) };
    if (expiresAt !== null) {
      // KV's own whole seconds, rounded down as KV rounds a TTL, so a record written
      // again with the deadline it read back (increment) keeps it exactly.
      const expiration = Math.floor(expiresAt / 1000);
      const ttl = expiration - Math.floor(Date.now() / 1000);
      if (ttl < MIN_TTL) {
        throw polykvError(
          "ERR_POLYKV_UNSUPPORTED",
          "CLOUDFLARE",
          `Cloudflare's min expiration is '60s': cannot expire key "${key}" after ${ttl}s`,
        );
      }
      // KV takes both as 32-bit integers: a deadline past 2038 (polykv allows a TTL up
      // to 2^31 - 1 s) is sent as the TTL, which fits.
      if (expiration <= INT32_MAX) options.expiration = expiration;
      else options.expirationTtl = ttl;
    }
    await this.#kv.put(key, storedOf(stored), options);
  }

  del(key) {
    return this.#kv.delete(key);
  }

  async has(key) {
    return (await this.#kv.get(key, "arrayBuffer")) !== null;
  }

  // The listed keys under `prefix` ({ name, expiration?, metadata? }), one page of
  // `list()` (up to 1 000) at a time.
  async *#pages(prefix) {
    let cursor;
    do {
      const page = await this.#kv.list(cursor ? { prefix, cursor } : { prefix });
      yield page.keys;
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
  }

  // Values are read a page at a time, in parallel; a key that expired or was
  // deleted between list() and get() is skipped.
  async *iterate(prefix = "") {
    for await (const keys of this.#pages(prefix)) {
      const values = await Promise.all(keys.map((entry) => this.get(entry.name)));
      for (let i = 0; i < keys.length; i++) {
        if (values[i] !== null) yield [keys[i].name, values[i], deadlineOf(keys[i]), keys[i].metadata];
      }
    }
  }

  // A list() page is one KV list() call, with KV's own cursor; no value is read.
  // The page cursor is KV's beside the last name listed, so a page never repeats a
  // name, and a KV cursor that lost its place (miniflare's ends the listing when the
  // key it names was deleted) is caught: a page that comes back empty and complete
  // is checked by walking the names from the start.
  async listPage(prefix, after, limit) {
    const [cursor, last] = after === null ? [null, null] : openCursor(after);
    const page = await this.#kv.list(cursor === null ? { prefix, limit } : { prefix, limit, cursor });
    const keys = last === null ? page.keys : page.keys.filter((entry) => codePointLess(last, entry.name));
    if (last !== null && keys.length === 0 && page.list_complete) return this.#walkAfter(prefix, last, limit);
    const records = keys.map(recordOf);
    if (page.list_complete) return { records, next: null };
    return { records, next: JSON.stringify([page.cursor, records.at(-1)?.[0] ?? last]) };
  }

  // The page after `last`, found by walking every name under `prefix` from the start.
  async #walkAfter(prefix, last, limit) {
    const records = [];
    for await (const keys of this.#pages(prefix)) {
      for (const entry of keys) {
        if (!codePointLess(last, entry.name)) continue;
        if (records.length === limit) return { records, next: JSON.stringify([null, records[limit - 1][0]]) };
        records.push(recordOf(entry));
      }
    }
    return { records, next: null };
  }

  async entries(prefix = "") {
    const list = [];
    for await (const [key, value] of this.iterate(prefix)) list.push([key, value]);
    return list;
  }

  async keys(prefix = "") {
    const list = [];
    for await (const keys of this.#pages(prefix)) for (const entry of keys) list.push(entry.name);
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

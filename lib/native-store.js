"use strict";
// The JS face of the Rust embedded backends (SQLite, JSON file, folder, asset
// folder): a driver (lib/contract.js) over one `NativeStore`. Every call is a sync
// napi call (~0.3 µs a crossing); the facade's own `async` methods make them
// promises. Values cross as JSON text (V8 makes it: the facade encodes; and parses
// it: here) or as bytes in a Buffer, on the engines that keep bytes.

const { capabilities } = require("./contract.js");
const { polykvError } = require("./errors.js");
const { decode } = require("./json.js");
const { TAG } = require("./record.js");

// Ordered by key, atomic under the engine's transaction or cross-process lock.
const CAPS = capabilities({ ordered: true, atomic: true });
// SQLite (a BLOB) and the folder (a raw record file) keep bytes as bytes.
const BYTES_CAPS = capabilities({ ordered: true, atomic: true, bytes: true });

// Entries per page when iterating: memory stays flat however big the store is.
const PAGE = 500;
// Keys per page for keys(): bigger, a key is small and the caller wants them all.
const KEYS_PAGE = 5000;

function parsePage(text, type, prefix) {
  try {
    return JSON.parse(text);
  } catch {
    throw polykvError("ERR_POLYKV_CORRUPT", type, `a value stored under the prefix "${prefix}" is not valid JSON`);
  }
}

class NativeDriver {
  static CAPS = CAPS;
  static BYTES_CAPS = BYTES_CAPS;
  #store;

  /**
   * @param {string} type `SQLITE`, `FILE` or `FOLDER`  @param {object} store a native.NativeStore
   * @param {object} caps CAPS, or BYTES_CAPS where the engine keeps bytes
   */
  constructor(type, store, caps = CAPS) {
    this.type = type;
    this.caps = caps;
    this.#store = store;
  }

  // A value as the engine returned it: JSON text is parsed, bytes (a Buffer) kept.
  #open(key, value) {
    return typeof value === "string" ? decode(this.type, key, value) : value;
  }

  get(key) {
    return this.#open(key, this.#store.get(key));
  }

  getRecord(key) {
    const found = this.#store.getRecord(key);
    return found === null ? null : { value: this.#open(key, found[0]), expiresAt: found[1] };
  }

  set(key, value, expiresAt) {
    this.#store.set(key, value, expiresAt);
  }

  del(key) {
    this.#store.del(key);
  }

  has(key) {
    return this.#store.has(key);
  }

  /** The record as stored (JSON text, or a Buffer), null when missing or expired. */
  getRaw(key) {
    return this.#store.get(key);
  }

  swap(key, seen, next, expiresAt) {
    return this.#store.swap(key, seen, next, expiresAt === undefined, expiresAt ?? null);
  }

  /** One locked step; undefined (nothing changed) when the record is not a plain JSON number. */
  increment(key, by, expiresAt) {
    return this.#store.increment(key, by, expiresAt) ?? undefined;
  }

  getAndDelete(key) {
    return this.#open(key, this.#store.getAndDelete(key));
  }

  getMany(keys) {
    const values = this.#store.getMany(keys);
    for (let i = 0; i < values.length; i++) {
      if (typeof values[i] === "string") values[i] = decode(this.type, keys[i], values[i]);
    }
    return values;
  }

  /** One transaction (SQLite) or one rewrite (the JSON file): all or nothing. */
  setMany(writes) {
    this.#store.writeMany(
      writes.map((write) => write[0]),
      writes.map((write) => write[1]),
      writes.map((write) => write[2]),
    );
  }

  delMany(keys) {
    const none = keys.map(() => null);
    this.#store.writeMany(keys, none, none);
  }

  /** Live [fullKey, value, expiresAt] records under `prefix` in key order, after `after`, a page at a time. */
  *iterate(prefix = "", after = null) {
    for (;;) {
      const answer = this.#store.scan(prefix, after, PAGE);
      const page = parsePage(answer[0], this.type, prefix);
      // A bytes value comes as [key, null, expiresAt, i]: its Buffer is answer[i].
      if (answer.length > 1) {
        for (const record of page) {
          if (record.length === 4) {
            record[1] = answer[record[3]];
            record.length = 3;
          }
        }
      }
      yield* page;
      if (page.length < PAGE) return;
      after = page[page.length - 1][0];
    }
  }

  /**
   * One list() page in one engine call (SQLite: one range read of limit + 1 rows):
   * list() reads only deadlines and metadata, so the values stay in Rust; a record
   * with metadata comes back as a tagged record holding only it (lib/record.js).
   */
  listPage(prefix, after, limit) {
    const rows = JSON.parse(this.#store.list(prefix, after, limit + 1));
    const records = rows.map(([key, expiresAt, metadata]) => [
      key,
      metadata === undefined ? null : { [TAG]: 1, value: null, metadata },
      expiresAt,
    ]);
    if (records.length <= limit) return { records, next: null };
    records.length = limit;
    return { records, next: records[limit - 1][0] };
  }

  keys(prefix = "") {
    let keys = [];
    let after = null;
    for (;;) {
      const page = JSON.parse(this.#store.scanKeys(prefix, after, KEYS_PAGE));
      keys = keys.length === 0 ? page : keys.concat(page);
      if (page.length < KEYS_PAGE) return keys;
      after = page[page.length - 1];
    }
  }

  clear(prefix = "") {
    this.#store.clear(prefix);
  }

  prune() {
    this.#store.prune();
  }

  close() {
    this.#store.close();
  }
}

/**
 * Group commit, for SQLite and the JSON file: the writes made in the same tick (64
 * requests in flight, a `Promise.all`) are committed together, in one transaction or
 * one locked rewrite, and each caller's promise settles once that commit is done; a
 * write that fails rejects alone, the others are stored. A lone awaited write is
 * one plain write, as before. Every other call commits the pending writes first, so
 * nothing overtakes a write made before it.
 */
class BatchingDriver extends NativeDriver {
  #store;
  #batch = null;

  constructor(type, store, caps) {
    super(type, store, caps);
    this.#store = store;
  }

  set(key, value, expiresAt) {
    return this.#queue(key, value, expiresAt);
  }

  del(key) {
    return this.#queue(key, null, null);
  }

  #queue(key, value, expiresAt) {
    let batch = this.#batch;
    if (batch === null) {
      batch = this.#batch = { keys: [], values: [], deadlines: [], settle: [] };
      queueMicrotask(() => this.flush());
    }
    batch.keys.push(key);
    batch.values.push(value);
    batch.deadlines.push(expiresAt);
    return new Promise((resolve, reject) => batch.settle.push(resolve, reject));
  }

  /** Commits the pending writes now (a no-op when there are none). */
  flush() {
    const batch = this.#batch;
    if (batch === null) return;
    this.#batch = null;
    const { keys, values, deadlines, settle } = batch;
    let failures = null;
    try {
      if (keys.length === 1) {
        if (values[0] === null) this.#store.del(keys[0]);
        else this.#store.set(keys[0], values[0], deadlines[0]);
      } else {
        failures = this.#store.writeGroup(keys, values, deadlines);
      }
    } catch (error) {
      for (let i = 1; i < settle.length; i += 2) settle[i](error);
      return;
    }
    for (let i = 0; i < keys.length; i++) {
      const failure = failures?.[i];
      if (failure) settle[2 * i + 1](polykvError(failure[0], null, failure[1], { verbatim: true }));
      else settle[2 * i]();
    }
  }
}

// Every call but set() and del() commits what is pending first.
for (const name of [
  "get",
  "getRecord",
  "has",
  "getRaw",
  "swap",
  "increment",
  "getAndDelete",
  "getMany",
  "setMany",
  "delMany",
  "iterate",
  "listPage",
  "keys",
  "clear",
  "prune",
  "close",
]) {
  const inner = NativeDriver.prototype[name];
  Object.defineProperty(BatchingDriver.prototype, name, {
    value: function (...args) {
      this.flush();
      return inner.apply(this, args);
    },
    writable: true,
    configurable: true,
  });
}

/**
 * The path in a `file:` URL (string or URL), as polystore reads it: everything after
 * `file://`, so `file:///abs/x.json` is absolute and `file://./x.json` relative to
 * the working directory; percent-escapes (a URL object's `%20`) are decoded.
 */
function pathFromFileUrl(href) {
  let rest = href.replace(/^file:\/\//i, "");
  if (/^localhost\//i.test(rest)) rest = rest.slice("localhost".length);
  rest = rest.replace(/[?#].*$/, "");
  try {
    return decodeURIComponent(rest);
  } catch {
    return rest; // a literal `%` in the name
  }
}

/** Whether a `file:` URL opts in to following symlinks: `?symlinks=follow` (docs/behaviour.md §35). */
function followsSymlinks(href) {
  return /[?&]symlinks=follow(?:[&#]|$)/.test(href);
}

module.exports = { NativeDriver, BatchingDriver, pathFromFileUrl, followsSymlinks, PAGE };

"use strict";
// The JS face of the Rust embedded backends (SQLite, JSON file, folder): a driver
// (lib/contract.js) over one `NativeStore`. Every call is a sync napi call (~0.3 µs a
// crossing); the facade's own `async` methods make them promises. Values cross as
// JSON text: V8 makes it (the facade encodes) and parses it (here).

const { capabilities } = require("./contract.js");
const { polykvError } = require("./errors.js");
const { decode } = require("./json.js");

// Ordered by key, atomic under the engine's transaction or cross-process lock.
const CAPS = capabilities({ ordered: true, atomic: true });

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
  caps = CAPS;
  #store;

  /** @param {string} type `SQLITE`, `FILE` or `FOLDER`  @param {object} store a native.NativeStore */
  constructor(type, store) {
    this.type = type;
    this.#store = store;
  }

  get(key) {
    const text = this.#store.get(key);
    return decode(this.type, key, text);
  }

  set(key, text, expiresAt) {
    this.#store.set(key, text, expiresAt);
  }

  del(key) {
    this.#store.del(key);
  }

  has(key) {
    return this.#store.has(key);
  }

  /** Live [fullKey, value] pairs under `prefix` in key order, fetched a page at a time. */
  *iterate(prefix = "") {
    let after = null;
    for (;;) {
      const page = parsePage(this.#store.scan(prefix, after, PAGE, true), this.type, prefix);
      yield* page;
      if (page.length < PAGE) return;
      after = page[page.length - 1][0];
    }
  }

  keys(prefix = "") {
    let keys = [];
    let after = null;
    for (;;) {
      const page = JSON.parse(this.#store.scan(prefix, after, KEYS_PAGE, false));
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
 * For the JSON file, where every write rewrites the whole file: the writes made in
 * the same tick (64 requests in flight, a `Promise.all`) are committed together in
 * one locked rewrite, and each caller's promise settles once that rewrite is on disk.
 * A lone awaited write is one rewrite, as before. Reads flush pending writes first,
 * so a read never misses a write made before it.
 */
class BatchingDriver extends NativeDriver {
  #store;
  #batch = null;

  constructor(type, store) {
    super(type, store);
    this.#store = store;
  }

  set(key, text, expiresAt) {
    return this.#queue(key, text, expiresAt);
  }

  del(key) {
    return this.#queue(key, null, null);
  }

  #queue(key, text, expiresAt) {
    let batch = this.#batch;
    if (batch === null) {
      batch = this.#batch = { keys: [], values: [], deadlines: [], resolve: null, reject: null, promise: null };
      batch.promise = new Promise((resolve, reject) => {
        batch.resolve = resolve;
        batch.reject = reject;
      });
      queueMicrotask(() => this.flush());
    }
    batch.keys.push(key);
    batch.values.push(text);
    batch.deadlines.push(expiresAt);
    return batch.promise;
  }

  /** Commits the pending writes now (a no-op when there are none). */
  flush() {
    const batch = this.#batch;
    if (batch === null) return;
    this.#batch = null;
    try {
      this.#store.writeMany(batch.keys, batch.values, batch.deadlines);
      batch.resolve();
    } catch (error) {
      batch.reject(error);
    }
  }

  get(key) {
    this.flush();
    return super.get(key);
  }

  has(key) {
    this.flush();
    return super.has(key);
  }

  *iterate(prefix = "") {
    this.flush();
    yield* super.iterate(prefix);
  }

  keys(prefix = "") {
    this.flush();
    return super.keys(prefix);
  }

  clear(prefix = "") {
    this.flush();
    super.clear(prefix);
  }

  prune() {
    this.flush();
    super.prune();
  }

  close() {
    this.flush();
    super.close();
  }
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

/** Whether a `file:` URL opts in to following symlinks: `?symlinks=follow` (docs/behaviour.md §26). */
function followsSymlinks(href) {
  return /[?&]symlinks=follow(?:[&#]|$)/.test(href);
}

module.exports = { NativeDriver, BatchingDriver, pathFromFileUrl, followsSymlinks, PAGE };

"use strict";
// `kv("file:///abs/dir/")` (ending in "/"): one JSON file per key (docs/behaviour.md §22), in
// Rust (src/backend/folder.rs): names that cannot leave the folder, temp-and-rename
// writes under the folder's lock, foreign files ignored; a binary value is a record
// file holding the raw bytes after a one-line header.
//
// `kv("file:///abs/public/assets/", { asset: true })`: an asset folder
// (src/backend/assets.rs), each value written raw to the file its key names
// (`img/logo.png`), for a web server to serve as it is.

const path = require("node:path");
const { fileUrl, isFolderUrl } = require("../url.js");
const { addon } = require("../addon.js");
const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { encode } = require("../json.js");
const { NativeDriver, pathFromFileUrl, followsSymlinks } = require("../native-store.js");

function test(input) {
  const href = fileUrl(input);
  return href !== null && isFolderUrl(href);
}

function create(input, options) {
  const { NativeStore } = addon("FOLDER");
  const href = fileUrl(input);
  const dir = path.resolve(pathFromFileUrl(href)) + path.sep;
  if (options?.asset) return new AssetDriver(NativeStore.assets(dir));
  return new NativeDriver("FOLDER", NativeStore.folder(dir, followsSymlinks(href)), NativeDriver.BYTES_CAPS);
}

// The driver gets the caller's own values (serializes: false) to write them raw, and
// metadata as an argument (metadata: true) only to refuse it. No deadlines, no atomic
// swap: a file holds nothing but its content.
const ASSET_CAPS = capabilities({ ordered: true, serializes: false, bytes: true, metadata: true });

/**
 * An asset folder: a string is written as its UTF-8 text, bytes as they are, any
 * other value as its JSON text; a read gives the text when the file is UTF-8, else
 * its bytes (a Buffer). The key is the file's path relative to the folder.
 */
class AssetDriver {
  type = "FOLDER";
  caps = ASSET_CAPS;
  asset = true;
  #store;

  constructor(store) {
    this.#store = store;
  }

  get(key) {
    return this.#store.get(key);
  }

  getRecord(key) {
    const value = this.#store.get(key);
    return value === null ? null : { value, expiresAt: null };
  }

  set(key, value, expiresAt, seconds, metadata) {
    if (metadata !== undefined) {
      throw polykvError(
        "ERR_POLYKV_UNSUPPORTED",
        this.type,
        `an asset file holds no metadata: cannot set "${key}" with it`,
      );
    }
    const content = typeof value === "string" || ArrayBuffer.isView(value) ? value : encode(key, value);
    this.#store.set(key, content, expiresAt);
  }

  del(key) {
    this.#store.del(key);
  }

  has(key) {
    return this.#store.has(key);
  }

  *iterate(prefix = "", after = null) {
    for (;;) {
      const keys = JSON.parse(this.#store.scanKeys(prefix, after, 500));
      for (const key of keys) {
        const value = this.#store.get(key);
        if (value !== null) yield [key, value, null];
      }
      if (keys.length < 500) return;
      after = keys[keys.length - 1];
    }
  }

  /** A list() page from the file names alone. */
  listPage(prefix, after, limit) {
    const records = JSON.parse(this.#store.list(prefix, after, limit + 1)).map(([key]) => [key, null, null]);
    if (records.length <= limit) return { records, next: null };
    records.length = limit;
    return { records, next: records[limit - 1][0] };
  }

  keys(prefix = "") {
    return JSON.parse(this.#store.scanKeys(prefix, null, 2 ** 32 - 1));
  }

  clear(prefix = "") {
    this.#store.clear(prefix);
  }

  close() {
    this.#store.close();
  }
}

module.exports = { name: "FOLDER", test, create };

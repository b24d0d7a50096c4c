"use strict";
// A Web Storage object: `localStorage` or `sessionStorage` (in a browser, or in
// jsdom / happy-dom). As polystore stores it: item name = full key, item text =
// the JSON of `{ "expires": <unix ms or null>, "value": … }`. We hide expired
// items ourselves (invisible at once; prune() removes them). An item that is not
// such an envelope (another script's data in the same storage) reads as missing
// and is left alone by prune(); clear() removes every item under its prefix
// (without a prefix it empties the storage, as polystore does).
//
// Web Storage is synchronous, so every method here is too; the facade wraps them.

const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { envelopeText, openEnvelopeText, isExpiredText } = require("../rules.js");

// Not atomic: another tab shares the storage and nothing locks it.
const CAPS = capabilities({});

class StorageDriver {
  type = "STORAGE";
  caps = CAPS;
  #storage;

  constructor(storage) {
    this.#storage = storage;
  }

  // Item names under `prefix`, read up front: removing items renumbers key(i).
  #names(prefix) {
    const storage = this.#storage;
    const names = [];
    for (let i = 0; i < storage.length; i++) {
      const name = storage.key(i);
      if (name !== null && name.startsWith(prefix)) names.push(name);
    }
    return names;
  }

  get(key) {
    return openEnvelopeText(this.#storage.getItem(key));
  }

  set(key, valueText, expiresAt) {
    const text = envelopeText(valueText, expiresAt);
    try {
      this.#storage.setItem(key, text);
    } catch (error) {
      throw polykvError(
        "ERR_POLYKV_VALUE",
        "STORAGE",
        `cannot store key "${key}" (${text.length} characters): ${error.message}`,
        {
          cause: error,
        },
      );
    }
  }

  del(key) {
    this.#storage.removeItem(key);
  }

  has(key) {
    return this.get(key) !== null;
  }

  *iterate(prefix = "") {
    const now = Date.now();
    for (const name of this.#names(prefix)) {
      const value = openEnvelopeText(this.#storage.getItem(name), now);
      if (value !== null) yield [name, value];
    }
  }

  clear(prefix = "") {
    if (!prefix) return this.#storage.clear();
    for (const name of this.#names(prefix)) this.#storage.removeItem(name);
  }

  prune(prefix = "") {
    const now = Date.now();
    for (const name of this.#names(prefix)) {
      if (isExpiredText(this.#storage.getItem(name), now)) this.#storage.removeItem(name);
    }
  }
}

module.exports = {
  name: "STORAGE",
  test: (input) => typeof Storage !== "undefined" && input instanceof Storage,
  create: (storage) => new StorageDriver(storage),
};

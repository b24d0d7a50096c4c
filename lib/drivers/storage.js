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
// It holds only text: metadata and binary values ride in the value as lib/record.js's
// tagged record (bytes as base64), and a storage holds about 5 million characters
// per origin in all (browsers' quota; jsdom's too), so a value is at most a few MB.

const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");
const { envelopeText, openEnvelopeText, isExpiredText, isLive, parseStored } = require("../rules.js");

// Not atomic: another tab shares the storage and nothing locks it (in this tab,
// increment and getAndDelete are serialized by the facade).
const CAPS = capabilities({});

// The live record in an item's text, with its deadline; null when missing, expired or not ours.
function recordOf(text, now) {
  const data = parseStored(text);
  return isLive(data, now) ? { value: data.value, expiresAt: data.expires ?? null } : null;
}

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

  getRecord(key) {
    return recordOf(this.#storage.getItem(key), Date.now());
  }

  has(key) {
    return this.get(key) !== null;
  }

  *iterate(prefix = "") {
    const now = Date.now();
    for (const name of this.#names(prefix)) {
      const record = recordOf(this.#storage.getItem(name), now);
      if (record !== null) yield [name, record.value, record.expiresAt];
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

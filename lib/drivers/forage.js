"use strict";
// A localForage instance (the default `localforage` or one from createInstance),
// over whichever driver it picked: IndexedDB, WebSQL or localStorage. As polystore
// stores it: item = full key, item value = the object `{ expires: <unix ms or
// null>, value }`, serialized by localForage itself. We hide expired items
// ourselves (invisible at once; prune() removes them).
//
// The value is stored as its JSON round trip, so a localForage store returns
// what every other persistent polykv store returns (a Date comes back as its ISO
// string, not as a Date that only IndexedDB could keep), and a value JSON cannot
// hold is refused with a TypeError naming the key.

const { capabilities } = require("../contract.js");
const { openEnvelope, isExpiredEnvelope, isLive } = require("../rules.js");

// Not atomic: other tabs share the database and localForage has no transactions to
// offer (in this tab, increment and getAndDelete are serialized by the facade).
// Metadata and binary values ride in the value as lib/record.js's tagged record.
const CAPS = capabilities({});

class ForageDriver {
  type = "FORAGE";
  caps = CAPS;
  #forage;

  constructor(forage) {
    this.#forage = forage;
  }

  // localForage picks its driver asynchronously; a failure (no usable driver)
  // rejects the first operation instead of every one failing obscurely.
  async connect() {
    if (typeof this.#forage.ready === "function") await this.#forage.ready();
  }

  // [key, stored data] for every item under `prefix`, in one pass of
  // localForage's iterate() (one IndexedDB cursor) rather than keys() + getItem().
  async #scan(prefix) {
    const found = [];
    await this.#forage.iterate((data, key) => {
      if (key.startsWith(prefix)) found.push([key, data]);
      // returning undefined keeps localForage iterating
    });
    return found;
  }

  async get(key) {
    return openEnvelope(await this.#forage.getItem(key));
  }

  async getRecord(key) {
    const data = await this.#forage.getItem(key);
    return isLive(data) ? { value: data.value, expiresAt: data.expires ?? null } : null;
  }

  async set(key, text, expiresAt) {
    await this.#forage.setItem(key, { expires: expiresAt, value: JSON.parse(text) });
  }

  async del(key) {
    await this.#forage.removeItem(key);
  }

  async has(key) {
    return (await this.get(key)) !== null;
  }

  async *iterate(prefix = "") {
    const now = Date.now();
    for (const [key, data] of await this.#scan(prefix)) {
      if (isLive(data, now)) yield [key, data.value, data.expires ?? null];
    }
  }

  async entries(prefix = "") {
    const now = Date.now();
    const list = [];
    for (const [key, data] of await this.#scan(prefix)) {
      const value = openEnvelope(data, now);
      if (value !== null) list.push([key, value]);
    }
    return list;
  }

  async clear(prefix = "") {
    if (!prefix) return void (await this.#forage.clear());
    for (const [key] of await this.#scan(prefix)) await this.#forage.removeItem(key);
  }

  async prune(prefix = "") {
    const now = Date.now();
    for (const [key, data] of await this.#scan(prefix)) {
      if (isExpiredEnvelope(data, now)) await this.#forage.removeItem(key);
    }
  }
}

module.exports = {
  name: "FORAGE",
  test: (input) => Boolean(input && input.defineDriver && input.dropInstance),
  create: (forage) => new ForageDriver(forage),
};

"use strict";
// polystore's custom-client protocol, adapted once (in kv()) into the driver
// contract (lib/contract.js), so no store method ever asks which mode a client is in.
//
// A custom client is any object (or class, instantiated with no arguments) with
// `get(key)` and `set(key, …)`, and optionally `del`, `has`, `iterate`, `keys`,
// `values`, `entries`, `clear`, `clearAll`, `prune`, `add`, `close`, `connect`,
// `promise`, `TYPE`. It speaks one of two modes (docs/behaviour.md §19–20):
// - wrapper mode: the client stores `{ expires, value }` envelopes (expires is an
//   absolute Unix time in ms or null) and polykv hides the expired ones;
// - native mode (`RAW` or `HAS_EXPIRATION`): the client gets
//   `set(key, value, expiresSeconds | null)` and owns expiry.
// Any method may return a promise. The client object is never mutated.
//
// A client only ever receives JSON values, as polystore's protocol promises: a
// binary value, a value with metadata, or an object of the caller's that has a
// "$polykv" key reaches it as lib/record.js's tagged record object
// (`{ $polykv: 1, value | bytes: "<base64>", metadata? }`), opened again on reads.
// A native-mode client owns its expiry and cannot say when a record expires: its
// records read with no deadline (getWithMetadata's `expires` and list()'s
// `expiration` are absent), and increment() rewrites an existing key with none.
//
// Beyond polystore's protocol, a client may have its own atomic and bulk methods,
// which polykv then uses instead of its own (each optional; "record" is what the
// client's get() returns and set() receives: the envelope in wrapper mode, the
// value in native mode; "expires" is as set() takes it: ms deadline in wrapper
// mode, seconds in native mode):
//   cas(key, expected, next, expires?)  replace the record `expected` (null: no
//       record, or in wrapper mode an expired one, given as it is) by `next`
//       (null: delete) atomically; true when it did. Native mode: `expires`
//       undefined keeps the record's expiry. With it, cas() works and
//       `capabilities.atomic` is true (polykv trusts the client to be atomic).
//   increment(key, by, expires)  add `by` to the number stored (a missing key
//       starts at `by` with `expires`; an existing one keeps its expiry) and
//       return the new number; a non-number must throw, changing nothing.
//   getAndDelete(key)  the record, deleted atomically (null when none).
//   getMany(keys)  the records, in order, null where missing.
//   setMany(writes)  `[key, record | null, expires?][]`, null deleting.
//   delMany(keys)
// Without them, cas() is ERR_POLYKV_UNSUPPORTED and increment/getAndDelete are
// serialized within this process only.

const { capabilities, clearByListing, isThenable } = require("./contract.js");
const { isLive, isExpiredEnvelope, remainingMs } = require("./rules.js");
const { polykvError, describe } = require("./errors.js");
const record = require("./record.js");

// One connect() per client object, shared by every store built on it.
const connections = new WeakMap();
// What lib/record.js tags for a client: everything but plain values.
const TAG_ALL = { bytes: false, metadata: false };

function refuse(message) {
  throw polykvError("ERR_POLYKV_CLIENT", null, message, { verbatim: true });
}

// The URLs kv() opens itself, for the messages below (a driver that opens a new scheme adds it here).
const URL_FORMS =
  "redis:// and rediss:// (Redis), redis+cluster:// and rediss+cluster:// (a Redis Cluster), postgres:// and postgresql:// (Postgres, through your pg), mysql:// and mariadb:// (MySQL or MariaDB, through your mysql2), sqlite:path (SQLite), file:///path/name.json (a JSON file), file:///path/dir/ (a folder), http:// and https:// (a polykv/server or polystore API)";
const CLIENTS =
  "a client object (node-redis, ioredis, pg, etcd3, level, a Cloudflare KV namespace, localForage, localStorage…) or a custom client with get() and set()";
const OPTION_NAMES = new Set(["prefix", "expires", "strict"]);

// A URL as it may be shown: any password replaced.
function shown(url) {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@]*?:)[^/@]*@/i, "$1***@");
}

/**
 * What was passed and what would work, after polystore's "Adapter should have .get()
 * and .set()" (kept first, word for word, so code that matched polystore's text still does).
 */
function explain(input) {
  if (typeof input === "string") return explainString(input);
  if (input === null || (typeof input !== "object" && typeof input !== "function")) {
    return `kv() takes nothing (a memory store), a Map, a URL string, ${CLIENTS}, or another store; it got ${describe(input)}`;
  }
  const keys = Object.keys(input);
  if (typeof input === "object" && keys.length > 0 && keys.every((key) => OPTION_NAMES.has(key))) {
    const text = `{ ${keys.map((key) => `${key}: ${JSON.stringify(input[key]) ?? String(input[key])}`).join(", ")} }`;
    return `${text} looks like kv() options, and options go in the second argument: kv(undefined, ${text}) for a memory store, kv(client, ${text}) for another`;
  }
  const missing = ["get", "set"].filter((method) => typeof input[method] !== "function");
  const what = typeof input === "function" ? "a function that is not a class" : describe(input);
  return `kv() got ${what} with no ${missing.map((m) => `${m}()`).join(" and no ")}: pass a URL string (${URL_FORMS}), or ${CLIENTS}`;
}

function explainString(input) {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(input)?.[1]?.toLowerCase();
  // A Windows drive ("C:\\data.db") is a path, not a scheme.
  if (scheme !== undefined && !/^[a-z]:[\\/]/i.test(input)) {
    const url = JSON.stringify(shown(input));
    if (scheme === "mongodb" || scheme === "mongodb+srv") {
      return `kv() got the URL ${url}, and polykv has no MongoDB backend: pass a custom client over your collection (an object with get(key) and set(key, record), polystore's protocol); the URLs kv() opens are ${URL_FORMS}`;
    }
    return `kv() got the URL ${url}, and "${scheme}:" is not a URL scheme polykv opens. The URLs it opens: ${URL_FORMS}. For anything else, pass ${CLIENTS}`;
  }
  if (input === "localStorage" || input === "sessionStorage") {
    return `kv() got the string "${input}": pass the object itself, kv(${input})`;
  }
  const quoted = JSON.stringify(input);
  const looksLikePath =
    /^(\.{1,2}[\\/]|[\\/~]|[a-z]:[\\/])/i.test(input) || /\.(db|sqlite3?|json)$/i.test(input) || /[\\/]$/.test(input);
  if (!looksLikePath) {
    return `kv() got the string ${quoted}, which is neither a URL polykv opens (${URL_FORMS}) nor "cookie"`;
  }
  // As a URL: polystore reads file://./x.json relative to the working directory.
  const relative = input.replace(/\\/g, "/").replace(/^(?!\/|\.{1,2}\/|[a-z]:\/)/i, "./");
  const fileUrl = `file://${relative}`;
  if (/\.(db|sqlite3?)$/i.test(input)) {
    return `kv() got the path ${quoted}, and a path is not a URL: for a SQLite database, kv("sqlite:${input}")`;
  }
  if (/\.json$/i.test(input)) {
    return `kv() got the path ${quoted}, and a path is not a URL: for a JSON file, kv("${fileUrl}")`;
  }
  if (/[\\/]$/.test(input)) {
    return `kv() got the path ${quoted}, and a path is not a URL: for a folder of JSON files, kv("${fileUrl}")`;
  }
  return `kv() got the path ${quoted}, and a path is not a URL: kv("sqlite:${input}") for a SQLite database, kv("${fileUrl}.json") for a JSON file, kv("${fileUrl}/") for a folder`;
}

/** Throws polystore's messages for an object that is not a usable client. */
function validate(client) {
  if (!client || (typeof client !== "object" && typeof client !== "function")) {
    refuse(`Adapter should have .get() and .set(): ${explain(client)}`);
  }
  if (typeof client.get !== "function" || typeof client.set !== "function") {
    refuse(`Adapter should have .get() and .set(): ${explain(client)}`);
  }
  const { RAW, HAS_EXPIRATION } = client;
  if (RAW !== undefined && HAS_EXPIRATION !== undefined && !RAW !== !HAS_EXPIRATION) {
    refuse("RAW and HAS_EXPIRATION must match");
  }
  if (!(RAW ?? HAS_EXPIRATION)) {
    for (const method of ["has", "keys", "values"]) {
      if (client[method]) refuse(`adapter.${method}() requires RAW or HAS_EXPIRATION`);
    }
  }
}

// `client.promise`, else `client.connect()` once per client; null when it has neither.
function connectOnce(client) {
  if (client.promise) return Promise.resolve(client.promise);
  if (typeof client.connect !== "function") return null;
  let pending = connections.get(client);
  if (!pending) {
    pending = Promise.resolve(client.connect());
    connections.set(client, pending);
  }
  return pending;
}

/** What the client stores for a value (and its metadata): the value itself, or the tagged record object. */
function toClient(key, value, metadata) {
  const object = typeof value === "object" && value !== null;
  if (metadata === undefined && !(object && (record.isBytes(value) || Object.hasOwn(value, record.TAG)))) {
    return value;
  }
  const meta = metadata === undefined ? null : JSON.stringify(metadata);
  return JSON.parse(record.storedText(key, value, meta, TAG_ALL));
}

/** A value the client returned, opened: `{ value, metadata }` (metadata undefined when none). */
function fromClient(stored, type) {
  if (!record.mayBeTagged(stored)) return { value: stored, metadata: undefined };
  const { value, metadata } = record.openStored(stored, type);
  return { value, metadata: metadata ?? undefined };
}

/** The methods both modes share: the client's own, where it has them. */
function common(client) {
  const driver = {
    type: client.TYPE || "UNKNOWN",
    caps: capabilities({
      serializes: false,
      listing: typeof client.iterate === "function",
      atomic: typeof client.cas === "function",
      metadata: true,
    }),
  };
  if (client.promise || typeof client.connect === "function") driver.connect = () => connectOnce(client);
  if (typeof client.close === "function") driver.close = () => client.close();
  if (typeof client.delMany === "function") driver.delMany = (keys) => client.delMany(keys);
  return driver;
}

// Wrapper mode: envelopes in, values out, expired records hidden and pruned here.
function wrapper(client) {
  const type = client.TYPE || "UNKNOWN";
  const live = (data) => data != null && isLive(data, Date.now());
  const open = (data) => (live(data) ? fromClient(data.value, type).value : null);
  const envelope = (key, value, expiresAt, metadata) => ({ expires: expiresAt, value: toClient(key, value, metadata) });
  const driver = common(client);
  Object.assign(driver, {
    get(key) {
      const data = client.get(key);
      return isThenable(data) ? data.then(open) : open(data);
    },
    async getRecord(key) {
      const data = await client.get(key);
      if (!live(data)) return null;
      return { ...fromClient(data.value, type), expiresAt: data.expires ?? null };
    },
    set: (key, value, expiresAt, seconds, metadata) => client.set(key, envelope(key, value, expiresAt, metadata)),
    del: typeof client.del === "function" ? (key) => client.del(key) : (key) => client.set(key, null),
  });
  if (typeof client.iterate === "function") {
    driver.iterate = async function* iterate(prefix) {
      for await (const [key, data] of client.iterate(prefix)) {
        if (live(data)) {
          const { value, metadata } = fromClient(data.value, type);
          yield [key, value, data.expires ?? null, metadata];
        }
      }
    };
    // Expired envelopes are deleted one by one once the listing is read.
    driver.prune = async (prefix) => {
      const expired = [];
      for await (const [key, data] of client.iterate(prefix))
        if (isExpiredEnvelope(data, Date.now())) expired.push(key);
      for (const key of expired) await driver.del(key);
    };
  }
  if (typeof client.entries === "function") {
    driver.entries = async (prefix) =>
      (await client.entries(prefix)).filter(([, data]) => live(data)).map(([key, data]) => [key, open(data)]);
  }
  if (typeof client.prune === "function") driver.prune = (prefix) => client.prune(prefix);
  if (typeof client.add === "function") {
    driver.add = (prefix, value, expiresAt) => client.add(prefix, envelope(prefix, value, expiresAt));
  }
  if (typeof client.cas === "function") {
    // getRaw hands out the envelope beside the value, so swap gives the client back what it returned.
    driver.getRaw = async (key) => {
      const data = await client.get(key);
      return live(data) ? { value: open(data), envelope: data } : null;
    };
    driver.swap = async (key, seen, next, expiresAt) => {
      let expected = seen?.envelope ?? null;
      if (seen === null) {
        // "Absent" includes an expired envelope, which the client compares as it is.
        expected = (await client.get(key)) ?? null;
        if (live(expected)) return false;
      }
      const deadline = expiresAt === undefined ? (seen?.envelope.expires ?? null) : expiresAt;
      return Boolean(await client.cas(key, expected, next === null ? null : envelope(key, next, deadline)));
    };
    // The same envelope with another deadline, value and metadata untouched.
    driver.touch = async (key, expiresAt) => {
      for (;;) {
        const data = await client.get(key);
        if (!live(data)) return false;
        if (await client.cas(key, data, { ...data, expires: expiresAt })) return true;
      }
    };
  }
  if (typeof client.increment === "function") {
    driver.increment = (key, by, expiresAt) => incrementBy(client, key, by, expiresAt);
  }
  if (typeof client.getAndDelete === "function")
    driver.getAndDelete = async (key) => open(await client.getAndDelete(key));
  if (typeof client.getMany === "function") driver.getMany = async (keys) => (await client.getMany(keys)).map(open);
  if (typeof client.setMany === "function") {
    driver.setMany = (writes) =>
      client.setMany(
        writes.map(([key, value, expiresAt]) => [key, value === null ? null : envelope(key, value, expiresAt)]),
      );
  }
  addClear(driver, client);
  return driver;
}

// A client's own increment(), its TypeError for a non-number given polykv's code.
async function incrementBy(client, key, by, expires) {
  try {
    return await client.increment(key, by, expires);
  } catch (error) {
    if (!(error instanceof TypeError) || error.code) throw error;
    throw polykvError("ERR_POLYKV_VALUE", null, `cannot increment key "${key}": ${error.message}`, { cause: error });
  }
}

// Native mode: the client owns expiry and takes seconds, as polystore passes them.
function owner(client) {
  const type = client.TYPE || "UNKNOWN";
  const open = (stored) => (stored === null || stored === undefined ? null : fromClient(stored, type).value);
  const seconds = (expiresAt) => (expiresAt === null ? null : remainingMs(expiresAt) / 1000);
  const driver = common(client);
  Object.assign(driver, {
    get(key) {
      const stored = client.get(key);
      return isThenable(stored) ? stored.then(open) : open(stored);
    },
    // No deadline to report: the client keeps it (see above).
    async getRecord(key) {
      const stored = await client.get(key);
      if (stored === null || stored === undefined) return null;
      return { ...fromClient(stored, type), expiresAt: null };
    },
    set: (key, value, expiresAt, secs, metadata) => client.set(key, toClient(key, value, metadata), secs),
    del: typeof client.del === "function" ? (key) => client.del(key) : (key) => client.set(key, null, 0),
  });
  for (const method of ["has", "keys", "prune"]) {
    if (typeof client[method] === "function") driver[method] = (arg) => client[method](arg);
  }
  if (typeof client.iterate === "function") {
    driver.iterate = async function* iterate(prefix) {
      for await (const [key, stored] of client.iterate(prefix)) {
        const { value, metadata } = fromClient(stored, type);
        yield [key, value, null, metadata];
      }
    };
  }
  if (typeof client.values === "function") driver.values = async (prefix) => (await client.values(prefix)).map(open);
  if (typeof client.entries === "function") {
    driver.entries = async (prefix) => (await client.entries(prefix)).map(([key, stored]) => [key, open(stored)]);
  }
  if (typeof client.add === "function") {
    driver.add = (prefix, value, expiresAt, secs) => client.add(prefix, toClient(prefix, value), secs);
  }
  if (typeof client.cas === "function") {
    driver.getRaw = async (key) => {
      const stored = await client.get(key);
      return stored === null || stored === undefined ? null : { value: open(stored), stored };
    };
    driver.swap = async (key, seen, next, expiresAt) => {
      const expires = expiresAt === undefined ? undefined : seconds(expiresAt);
      return Boolean(await client.cas(key, seen?.stored ?? null, next === null ? null : toClient(key, next), expires));
    };
    // The stored value swapped with itself under the new expiry (seconds, as RAW clients take it).
    driver.touch = async (key, expiresAt) => {
      for (;;) {
        const stored = await client.get(key);
        if (stored === null || stored === undefined) return false;
        if (await client.cas(key, stored, stored, seconds(expiresAt))) return true;
      }
    };
  }
  if (typeof client.increment === "function") {
    driver.increment = (key, by, expiresAt) => incrementBy(client, key, by, seconds(expiresAt));
  }
  if (typeof client.getAndDelete === "function")
    driver.getAndDelete = async (key) => open(await client.getAndDelete(key));
  if (typeof client.getMany === "function") driver.getMany = async (keys) => (await client.getMany(keys)).map(open);
  if (typeof client.setMany === "function") {
    driver.setMany = (writes) =>
      client.setMany(
        writes.map(([key, value, expiresAt]) => [
          key,
          value === null ? null : toClient(key, value),
          seconds(expiresAt),
        ]),
      );
  }
  addClear(driver, client);
  return driver;
}

// clear(""), where the client has clearAll(), is that; clear(prefix) is the client's own
// clear(), else the contract's default (delete each listed key).
function addClear(driver, client) {
  const hasClear = typeof client.clear === "function";
  if (typeof client.clearAll === "function") {
    driver.clear = (prefix) => {
      if (!prefix) return client.clearAll();
      return hasClear ? client.clear(prefix) : clearByListing(driver, prefix);
    };
  } else if (hasClear) {
    driver.clear = (prefix) => client.clear(prefix);
  }
}

/** The driver over a user's custom client (already instantiated); throws polystore's errors. */
function adaptClient(client) {
  validate(client);
  return (client.RAW ?? client.HAS_EXPIRATION) ? owner(client) : wrapper(client);
}

module.exports = { adaptClient };

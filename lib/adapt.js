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

const { capabilities, clearByListing, isThenable } = require("./contract.js");
const { isLive, isExpiredEnvelope } = require("./rules.js");
const { polykvError, describe } = require("./errors.js");

// One connect() per client object, shared by every store built on it.
const connections = new WeakMap();

function refuse(message) {
  throw polykvError("ERR_POLYKV_CLIENT", null, message, { verbatim: true });
}

// The URLs kv() opens itself, for the messages below (a driver that opens a new scheme adds it here).
const URL_FORMS =
  "redis:// and rediss:// (Redis), sqlite:path (SQLite), file:///path/name.json (a JSON file), file:///path/dir/ (a folder), http:// and https:// (a polykv/server or polystore API)";
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

/** The methods both modes share: the client's own, where it has them. */
function common(client) {
  const driver = {
    type: client.TYPE || "UNKNOWN",
    caps: capabilities({ serializes: false, listing: typeof client.iterate === "function" }),
  };
  if (client.promise || typeof client.connect === "function") driver.connect = () => connectOnce(client);
  if (typeof client.close === "function") driver.close = () => client.close();
  return driver;
}

// Wrapper mode: envelopes in, values out, expired records hidden and pruned here.
function wrapper(client) {
  const open = (data) => (data != null && isLive(data, Date.now()) ? data.value : null);
  const driver = common(client);
  Object.assign(driver, {
    get(key) {
      const data = client.get(key);
      return isThenable(data) ? data.then(open) : open(data);
    },
    set: (key, value, expiresAt) => client.set(key, { expires: expiresAt, value }),
    del: typeof client.del === "function" ? (key) => client.del(key) : (key) => client.set(key, null),
  });
  if (typeof client.iterate === "function") {
    driver.iterate = async function* iterate(prefix) {
      for await (const [key, data] of client.iterate(prefix)) if (isLive(data, Date.now())) yield [key, data.value];
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
    driver.entries = async (prefix) => {
      const now = Date.now();
      return (await client.entries(prefix))
        .filter(([, data]) => isLive(data, now))
        .map(([key, data]) => [key, data.value]);
    };
  }
  if (typeof client.prune === "function") driver.prune = (prefix) => client.prune(prefix);
  if (typeof client.add === "function") {
    driver.add = (prefix, value, expiresAt) => client.add(prefix, { expires: expiresAt, value });
  }
  addClear(driver, client);
  return driver;
}

// Native mode: the client owns expiry and takes seconds, as polystore passes them.
function owner(client) {
  const driver = common(client);
  Object.assign(driver, {
    get: (key) => client.get(key),
    set: (key, value, expiresAt, seconds) => client.set(key, value, seconds),
    del: typeof client.del === "function" ? (key) => client.del(key) : (key) => client.set(key, null, 0),
  });
  for (const method of ["has", "iterate", "keys", "values", "entries", "prune"]) {
    if (typeof client[method] === "function") driver[method] = (arg) => client[method](arg);
  }
  if (typeof client.add === "function") {
    driver.add = (prefix, value, expiresAt, seconds) => client.add(prefix, value, seconds);
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

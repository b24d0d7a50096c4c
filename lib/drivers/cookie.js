"use strict";
// `kv("cookie")`: the page's cookies through `document.cookie` (in a browser, or
// under jsdom). As polystore writes them: `encodeURIComponent(fullKey)` =
// `encodeURIComponent(<value's JSON text>)`, with an `expires=` attribute when the
// record expires, and no path or domain attribute (so the browser scopes the
// cookie to the page's path, as polystore's cookies are).
//
// Cookies expire by the browser's clock at whole-second resolution. We round the
// deadline UP to the next second, so a record is never gone before its time (it
// may outlive it by under a second); polystore rounds down, which can drop a
// sub-second record before it can be read at all.
//
// Cookies that are not ours (not URI-encoded JSON) are skipped, never touched.
//
// `document.cookie` shows a cookie's name and value, never its expiry: a record's
// deadline cannot be read back, so getWithMetadata() and list() report none, and an
// increment() of an existing key rewrites it without its expiry. Cookies hold text
// only: metadata and binary values ride in the value as lib/record.js's tagged
// record (bytes as base64), within the 4 096 bytes a browser keeps per cookie.

const { capabilities } = require("../contract.js");
const { polykvError } = require("../errors.js");

// Whole-second expiry kept by the browser, which drops expired cookies itself. Not
// atomic: other tabs and the server share the cookies (in this tab, increment and
// getAndDelete are serialized by the facade).
const CAPS = capabilities({ expiryMs: false, expiresItself: true });

// Browsers ignore a cookie whose name and value exceed 4 096 bytes; we refuse it
// with an error instead of losing the write silently.
const MAX_COOKIE_BYTES = 4096;
const EPOCH = "Thu, 01 Jan 1970 00:00:00 GMT";

function cookieDocument() {
  const doc = globalThis.document;
  if (!doc || typeof doc.cookie !== "string") {
    throw polykvError(
      "ERR_POLYKV_UNSUPPORTED",
      "COOKIE",
      'kv("cookie") needs a browser document (document.cookie), and there is none here',
    );
  }
  return doc;
}

function decodePart(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** The page's cookies that hold polykv/polystore records, as a Map of key → value. */
function readCookies() {
  const cookies = new Map();
  for (const pair of cookieDocument().cookie.split(";")) {
    const at = pair.indexOf("=");
    if (at < 0) continue;
    const key = decodePart(pair.slice(0, at).trim());
    const text = decodePart(pair.slice(at + 1).trim());
    if (key === null || text === null || text === "") continue;
    try {
      const value = JSON.parse(text);
      if (value !== null) cookies.set(key, value);
    } catch {
      // someone else's cookie
    }
  }
  return cookies;
}

class CookieDriver {
  type = "COOKIE";
  caps = CAPS;

  get(key) {
    return readCookies().get(key) ?? null;
  }

  set(key, valueText, expiresAt) {
    const name = encodeURIComponent(key);
    const text = encodeURIComponent(valueText);
    // Both parts are URI-encoded, so plain ASCII: one byte per character.
    if (name.length + text.length > MAX_COOKIE_BYTES) {
      throw polykvError(
        "ERR_POLYKV_VALUE",
        "COOKIE",
        `the cookie for key "${key}" would take ${name.length + text.length} bytes; browsers keep at most ${MAX_COOKIE_BYTES}`,
      );
    }
    let attributes = "";
    if (expiresAt !== null) {
      const at = Math.ceil(expiresAt / 1000) * 1000;
      attributes = `; expires=${new Date(at).toUTCString()}`;
    }
    cookieDocument().cookie = `${name}=${text}${attributes}`;
  }

  del(key) {
    cookieDocument().cookie = `${encodeURIComponent(key)}=; expires=${EPOCH}`;
  }

  // The deadline is the browser's secret: reported as none (see above).
  getRecord(key) {
    const value = this.get(key);
    return value === null ? null : { value, expiresAt: null };
  }

  // One read of document.cookie for every key.
  getMany(keys) {
    const cookies = readCookies();
    return keys.map((key) => cookies.get(key) ?? null);
  }

  has(key) {
    return readCookies().has(key);
  }

  // The browser drops expired cookies itself: nothing to prune.
  *iterate(prefix = "") {
    for (const [key, value] of readCookies()) if (key.startsWith(prefix)) yield [key, value, null];
  }

  clear(prefix = "") {
    for (const [key] of [...this.iterate(prefix)]) this.del(key);
  }
}

module.exports = {
  name: "COOKIE",
  test: (input) => input === "cookie" || input === "cookies",
  create: () => new CookieDriver(),
};

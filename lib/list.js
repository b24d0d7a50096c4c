"use strict";
// `store.list({ prefix, limit, cursor })`: Workers KV's paginated listing, written
// once over the driver contract (docs/behaviour.md §29).
//
// A page is the next `limit` live keys after the last key of the previous page, in
// code-point (UTF-8 byte) order, so a key present for the whole listing is returned
// exactly once whatever is written or deleted between pages. The cursor is that last
// key, with the listing's prefix, in an opaque base64url string. An ordered driver
// answers a page with one range read (`iterate(prefix, after)` starts after the
// cursor); an unordered one is listed whole and sorted, unless it has a `listPage`
// of its own (Redis walks SCAN).

const { polykvError, describe } = require("./errors.js");

const LIMIT_MAX = 1000;

/** a < b in code-point order (JS's `<` compares UTF-16 units: astral characters would sort too early). */
function codePointLess(a, b) {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // A surrogate (an astral character) is above every BMP unit from U+E000 up.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return ys ? x < 0xe000 : y >= 0xe000;
    return x < y;
  }
  return a.length < b.length;
}

function compareCodePoints(a, b) {
  return a === b ? 0 : codePointLess(a, b) ? -1 : 1;
}

/** `limit` checked: an integer from 1, default and at most 1000 (larger is 1000, as a page). */
function pageLimit(limit) {
  if (limit === undefined || limit === null) return LIMIT_MAX;
  if (!Number.isInteger(limit) || limit < 1) {
    throw polykvError("ERR_POLYKV_OPTIONS", null, `list() limit must be a positive integer, got ${describe(limit)}`);
  }
  return Math.min(limit, LIMIT_MAX);
}

function encodeCursor(prefix, after) {
  const text = JSON.stringify([prefix, after]);
  return typeof Buffer === "function"
    ? Buffer.from(text).toString("base64url")
    : btoa(unescape(encodeURIComponent(text)))
        .replace(/\+/g, "-")
        .replace(/\//g, "_")
        .replace(/=+$/, "");
}

/** The driver cursor inside `cursor`, checked to belong to a listing of `prefix`. */
function decodeCursor(cursor, prefix) {
  if (cursor === undefined || cursor === null || cursor === "") return null;
  let parsed;
  try {
    const text =
      typeof Buffer === "function"
        ? Buffer.from(String(cursor), "base64url").toString()
        : decodeURIComponent(escape(atob(String(cursor).replace(/-/g, "+").replace(/_/g, "/"))));
    parsed = JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== "string") {
    throw polykvError("ERR_POLYKV_OPTIONS", null, "list() cursor is not one that list() returned");
  }
  if (parsed[0] !== prefix) {
    throw polykvError("ERR_POLYKV_OPTIONS", null, "list() cursor belongs to a listing of another prefix or store");
  }
  return parsed[1];
}

/**
 * One page of live records under `prefix` after the driver cursor `after` (null:
 * from the start): `{ records: [key, value, expiresAt][], next }`, `next` the
 * driver cursor of the following page or null on the last one. `expiresAt`
 * undefined means the driver's listing does not say; the caller then asks
 * getRecord().
 */
async function readPage(driver, prefix, after, limit) {
  if (typeof driver.listPage === "function") return driver.listPage(prefix, after, limit);
  const records = [];
  if (driver.caps.ordered) {
    // One range read: the driver starts after `after`; the check below is only for
    // drivers that start at the prefix.
    for await (const record of driver.iterate(prefix, after ?? undefined)) {
      if (after !== null && !codePointLess(after, record[0])) continue;
      records.push(record);
      if (records.length > limit) break;
    }
  } else {
    for await (const record of driver.iterate(prefix)) {
      if (after === null || codePointLess(after, record[0])) records.push(record);
    }
    records.sort((a, b) => compareCodePoints(a[0], b[0]));
  }
  if (records.length <= limit) return { records, next: null };
  records.length = limit;
  return { records, next: records[limit - 1][0] };
}

module.exports = { LIMIT_MAX, codePointLess, compareCodePoints, pageLimit, encodeCursor, decodeCursor, readPage };

"use strict";
// polystore stores values in some backends (level, localStorage/sessionStorage,
// localForage, etcd) inside an envelope `{ "expires": <unix ms or null>, "value": … }`
// and hides the expired ones when reading. Our drivers for those backends keep
// that exact stored shape, so polystore and polykv read each other's data, but do
// the envelope themselves so they can present native expiry to the facade.

const { encode } = require("./json.js");

/** Absolute Unix time in ms for `seconds` from now, or null for "never". */
function deadline(seconds) {
  return seconds === null || seconds === undefined ? null : Date.now() + seconds * 1000;
}

/**
 * The envelope as JSON text. The value is encoded on its own first so a value
 * JSON cannot hold (a function, a BigInt, a cycle) throws a TypeError naming the
 * key instead of silently becoming an envelope without a value.
 */
function envelopeText(key, value, seconds) {
  return `{"expires":${deadline(seconds) ?? "null"},"value":${encode(key, value)}}`;
}

/** The value of a live envelope, or null when it is missing, expired or not an envelope. */
function openEnvelope(data, now = Date.now()) {
  if (data === null || typeof data !== "object" || !("value" in data)) return null;
  const { expires } = data;
  if (expires != null && !(expires > now)) return null;
  return data.value ?? null;
}

/** Same as openEnvelope, from JSON text; text that is not JSON reads as missing (someone else's item). */
function openEnvelopeText(text, now = Date.now()) {
  if (typeof text !== "string" || text === "") return null;
  let data;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  return openEnvelope(data, now);
}

/** True when `data` is an envelope whose time has passed (prune removes those, and nothing else). */
function isExpiredEnvelope(data, now = Date.now()) {
  return data !== null && typeof data === "object" && "value" in data && data.expires != null && !(data.expires > now);
}

module.exports = { deadline, envelopeText, openEnvelope, openEnvelopeText, isExpiredEnvelope };

"use strict";
// The `{ "expires": <unix ms or null>, "value": … }` envelope (CONTRACT §19). The
// facade keeps it for memory stores and wrapper-mode clients; polystore stores it
// in some backends (level, localStorage/sessionStorage, localForage, etcd). Our
// drivers for those backends keep that exact stored shape, so polystore and polykv
// read each other's data, but open it themselves so they can present native
// expiry to the facade and hide expired records at once.

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

/** True when `data` is an envelope with a value whose time has not come. */
function isLive(data, now = Date.now()) {
  return data !== null && typeof data === "object" && "value" in data && (data.expires == null || data.expires > now);
}

/** The value of a live envelope, or null when it is missing, expired or not an envelope. */
function openEnvelope(data, now = Date.now()) {
  return isLive(data, now) ? (data.value ?? null) : null;
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
  return data !== null && typeof data === "object" && "value" in data && !isLive(data, now);
}

module.exports = { deadline, envelopeText, isLive, openEnvelope, openEnvelopeText, isExpiredEnvelope };

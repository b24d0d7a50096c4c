"use strict";
// What both Redis drivers share (the native one, lib/drivers/redis-native.js, and the
// one over the user's node-redis or ioredis client, lib/drivers/redis.js): how bytes
// are told from JSON text, the Lua scripts of the atomic operations, and list() over
// SCAN (docs/behaviour.md §24, §29, §30).
//
// Bytes: a Redis string is bytes. A binary value is stored as the byte 0xFF followed
// by its bytes. JSON text never starts with 0xFF (no UTF-8 text does), so every record
// polystore or polykv wrote before reads as it did, and a record starting with it is
// bytes. polystore cannot read such a record (it is not JSON), as it cannot store one.

const { createHash, randomBytes } = require("node:crypto");
const { scanPattern } = require("./rules.js");
const { decode } = require("./json.js");
const { openValue } = require("./record.js");
const { notANumber } = require("./atomic.js");
const { polykvError } = require("./errors.js");

const MARKER = 0xff;
const MARKER_BYTES = Buffer.from([MARKER]);
// What a client that decodes replies as UTF-8 (node-redis, ioredis) makes of the marker.
const MARKER_TEXT = 0xfffd;

/** A stored form (JSON text or bytes) as a client sends it: bytes get the marker. */
function toWire(stored) {
  return typeof stored === "string" ? stored : Buffer.concat([MARKER_BYTES, stored]);
}

/** A Buffer reply as the drivers hand it on: bytes (after the marker) or the text. */
function fromWire(buffer) {
  if (buffer === null || buffer === undefined) return null;
  return buffer[0] === MARKER ? buffer.subarray(1) : buffer.toString();
}

/** Whether a reply a client decoded as text was bytes (read it again as a Buffer). */
function isLossyBytes(text) {
  return typeof text === "string" && text.charCodeAt(0) === MARKER_TEXT;
}

/** A value as get() reads it, from JSON text or bytes (null: missing). */
function readValue(type, key, stored) {
  return typeof stored === "string" ? decode(type, key, stored) : (stored ?? null);
}

function script(text) {
  return { text, sha: createHash("sha1").update(text).digest("hex") };
}

// The expiry argument of SWAP and INCR: "keep" the key's TTL, "never", or milliseconds.
function expiryArg(expiresAt) {
  if (expiresAt === undefined) return "keep";
  if (expiresAt === null) return "never";
  return String(Math.max(1, Math.ceil(expiresAt - Date.now())));
}

// Sets KEYS[1] to `value` with the expiry argument `px` (as expiryArg).
const SET_WITH = `
local function set(value, px)
  if px == 'keep' then
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl > 0 then return redis.call('SET', KEYS[1], value, 'PX', ttl) end
    return redis.call('SET', KEYS[1], value)
  elseif px == 'never' then
    return redis.call('SET', KEYS[1], value)
  end
  return redis.call('SET', KEYS[1], value, 'PX', px)
end
`;

/**
 * swap: KEYS[1]; ARGV: "1" and the stored form it must still hold (or "0" and "": it
 * must be missing), "1" and the next stored form (or "0" and "": delete), the expiry.
 * 1 when it swapped, 0 when the stored form differed. Strings compare byte for byte.
 */
const SWAP = script(`${SET_WITH}
local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
if ARGV[3] == '0' then redis.call('DEL', KEYS[1]) else set(ARGV[4], ARGV[5]) end
return 1
`);

/**
 * increment: KEYS[1]; ARGV: by (as JS writes it), by's JSON text (a new key holds it),
 * the expiry of a new key. The new number's text; an existing key keeps its TTL. When
 * the stored text is not a JSON number as JSON.stringify writes one (a string, an
 * object, bytes, metadata's tagged record), or the sum is not finite: {stored text},
 * unchanged, for JS to judge. Lua numbers are doubles, as JS's: the sum is JS's sum,
 * written with the fewest digits (15 to 17) that read back as the same double.
 */
const INCR = script(`${SET_WITH}
local current = redis.call('GET', KEYS[1])
if not current then
  set(ARGV[2], ARGV[3])
  return ARGV[2]
end
local rest = string.match(current, '^-?0(.*)$') or string.match(current, '^-?[1-9]%d*(.*)$')
if rest == nil then return {current} end
rest = string.gsub(rest, '^%.%d+', '', 1)
rest = string.gsub(rest, '^[eE][-+]?%d+', '', 1)
if rest ~= '' then return {current} end
local sum = tonumber(current) + tonumber(ARGV[1])
if sum ~= sum or sum == math.huge or sum == -math.huge then return {current} end
local text
for digits = 15, 17 do
  text = string.format('%.' .. digits .. 'g', sum)
  if tonumber(text) == sum then break end
end
set(text, 'keep')
return text
`);

/** getAndDelete where GETDEL is missing (Redis < 6.2): KEYS[1]; the value, deleted. */
const TAKE = script(`
local value = redis.call('GET', KEYS[1])
if value then redis.call('DEL', KEYS[1]) end
return value
`);

// touch(): moves a live key's expiry alone (PEXPIRE, or PERSIST for never); 0 when
// the key is missing. ARGV[1]: ms from now, or "" for never.
const TOUCH = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '' then redis.call('PERSIST', KEYS[1]) else redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1
`);

/** TOUCH's argument for a deadline (ms; null: never). */
const touchArgs = (ms) => [ms === null ? "" : String(ms)];

/**
 * The records of up to 1000 KEYS at one instant: {values (MGET), deadlines, 1} with
 * PEXPIRETIME (Redis >= 7), else {values, PTTLs, 0}.
 */
const RECORDS = script(`
local absolute = 1
local times = {}
for i = 1, #KEYS do
  local time = absolute == 1 and redis.pcall('PEXPIRETIME', KEYS[i])
  if type(time) ~= 'number' then
    absolute = 0
    time = redis.call('PTTL', KEYS[i])
  end
  times[i] = time
end
return {redis.call('MGET', unpack(KEYS)), times, absolute}
`);

/** SWAP's arguments; `wire` turns a stored form into what the client sends. */
function swapArgs(seen, next, expiresAt, wire) {
  return [
    seen === null ? "0" : "1",
    seen === null ? "" : wire(seen),
    next === null ? "0" : "1",
    next === null ? "" : wire(next),
    expiryArg(expiresAt),
  ];
}

/** INCR's arguments. */
function incrementArgs(by, expiresAt) {
  return [String(by), JSON.stringify(by), expiryArg(expiresAt)];
}

/**
 * The answer of INCR: the new number, or (the stored value was not a plain JSON
 * number) a TypeError when it is not a number, or `fallback()` when it is one that the
 * script does not read (a number with metadata, written with spaces): that goes over
 * getRaw/swap. `stored` in the reply is text, or bytes (the native driver; a client's
 * lossy text of bytes starts with U+FFFD).
 */
function incrementResult(type, key, id, by, reply, fallback) {
  if (!Array.isArray(reply)) return Number(reply);
  const stored = reply[0];
  const current =
    typeof stored === "string" && !isLossyBytes(stored) ? openValue(decode(type, key, stored), type) : Buffer.alloc(0);
  if (typeof current !== "number") throw notANumber(id, current);
  if (!Number.isFinite(current + by)) {
    throw polykvError("ERR_POLYKV_VALUE", null, `cannot increment key "${id}": the result is not a finite number`);
  }
  return fallback();
}

/**
 * A deadline from PEXPIRETIME (`absolute`; Redis >= 7) or from PTTL read at `now`:
 * null for none, undefined when the key is gone. PEXPIRETIME is the server's own
 * deadline, the same on every read; a deadline from PTTL moves by the read's latency.
 */
function deadlineOf(time, now, absolute) {
  if (time === -1) return null;
  if (time === -2 || typeof time !== "number") return undefined;
  return absolute ? time : now + time;
}

/** Whether a failed command failed because the server does not have it (an older Redis). */
function isUnknownCommand(error) {
  return /unknown command/i.test(String(error?.message));
}

/**
 * The live records of RECORDS' reply for `keys`: [key, value, expiresAt][], where
 * `read(key, item)` turns a value of the reply into what get() returns.
 */
function recordsOf(keys, reply, read) {
  const now = Date.now();
  const [values, times, absolute] = reply;
  const records = [];
  for (let i = 0; i < keys.length; i++) {
    const expiresAt = deadlineOf(times[i], now, absolute === 1);
    if (values[i] === null || values[i] === undefined || expiresAt === undefined) continue;
    records.push([keys[i], read(keys[i], values[i]), expiresAt]);
  }
  return records;
}

// ---- list() over SCAN -----------------------------------------------------------
//
// SCAN walks the keyspace in no order, may return a key twice, and its cursor is a
// number that holds no key. Each SCAN step's keys are sorted, and a page takes them
// in that order. A listing keeps, in this process, the keys it queued so far (to drop
// SCAN's repeats) and the keys of the step that did not fit in the page. The cursor
// handed out names that state and the page it is at, and holds what resuming without
// it takes: the SCAN cursor of the step being read and the last key returned from it.
//
// Resumed without its state (in another process, after LISTING_IDLE, past
// MAX_LISTINGS newer listings, or with a cursor used once already), a listing runs
// that SCAN step again and goes on after that key: every key present for the whole
// listing is still listed, but SCAN's own repeats are no longer dropped, and if the
// keyspace is resized in between (Redis grows or shrinks its table) keys of that step
// may be listed twice or, on a shrink, ones sorting before that key missed.

/** Keys per SCAN step (a hint), and the most keys per RECORDS call. */
const SCAN_COUNT = 1000;
const MAX_LISTINGS = 32;
const LISTING_IDLE = 10 * 60 * 1000; // ms
/** A listing remembers at most this many keys; past it, it starts remembering afresh. */
const MAX_SEEN = 100_000;

const b64 = (text) => Buffer.from(text).toString("base64url");
const unb64 = (text) => Buffer.from(text, "base64url").toString();

class ScanListings {
  #states = new Map(); // id → state, least recently used first

  /**
   * One page of live records under `prefix` after the driver cursor `after` (null:
   * from the start): `{ records: [key, value, expiresAt][], next }`. `ops.scan(pattern,
   * cursor, count)` → [next cursor, keys]; `ops.records(keys)` → the live records.
   */
  async page(prefix, after, limit, ops) {
    const now = Date.now();
    for (const [id, state] of this.#states) {
      if (now - state.usedAt < LISTING_IDLE && this.#states.size < MAX_LISTINGS) break;
      this.#states.delete(id);
    }
    const state = this.#resume(after);
    state.usedAt = now;
    const pattern = scanPattern(prefix);
    const keys = [];
    while (keys.length < limit) {
      if (state.pending.length === 0) {
        if (state.cursor === "0" && state.scanned) break;
        const [next, found] = await ops.scan(pattern, state.cursor, SCAN_COUNT);
        state.step = state.cursor;
        state.cursor = next;
        state.scanned = true;
        state.last = null;
        if (state.seen.size + found.length > MAX_SEEN) state.seen.clear();
        const skip = state.skipThrough;
        state.skipThrough = null;
        for (const key of found.sort()) {
          if (state.seen.has(key) || (skip !== null && key <= skip)) continue;
          state.seen.add(key);
          state.pending.push(key);
        }
        continue;
      }
      const take = state.pending.splice(0, limit - keys.length);
      for (const key of take) keys.push(key);
      state.last = take[take.length - 1];
    }
    const records = keys.length === 0 ? [] : await ops.records(keys);
    if (state.pending.length === 0 && state.cursor === "0" && state.scanned) return { records, next: null };
    state.page++;
    this.#states.set(state.id, state);
    const at = state.pending.length > 0 ? `${state.step}.${b64(state.last)}` : state.cursor;
    return { records, next: `${state.id}.${state.page}.${at}` };
  }

  // The listing `after` continues: its state in this process when `after` is its
  // latest cursor, else a fresh one from the SCAN step (and key) inside it. The state
  // is out of the map while a page is read: a page that fails (a lost connection)
  // leaves none behind, so the same cursor tried again resumes from what it holds.
  #resume(after) {
    const newId = () => randomBytes(6).toString("base64url");
    const fresh = (id, cursor) => ({
      id,
      page: 0,
      cursor,
      step: cursor,
      scanned: false, // a cursor "0" is the end only once a step has run
      last: null,
      skipThrough: null,
      seen: new Set(),
      pending: [],
      usedAt: 0,
    });
    if (after === null) return fresh(newId(), "0");
    const match = /^([\w-]+)\.(\d+)\.(\d+)(?:\.([\w-]*))?$/.exec(String(after));
    if (match === null) throw polykvError("ERR_POLYKV_OPTIONS", null, "list() cursor is not one that list() returned");
    const [, id, page, cursor, last] = match;
    const state = this.#states.get(id);
    if (state !== undefined && String(state.page) === page) {
      this.#states.delete(id);
      return state;
    }
    const restarted = fresh(newId(), cursor);
    restarted.page = Number(page);
    if (last !== undefined) restarted.skipThrough = unb64(last);
    return restarted;
  }
}

/**
 * One list() page over a cluster's masters, `masters` as [{ first, … }] in the order of
 * the first slot each serves, one after another: `page(master, cursor, limit)` → that
 * master's page ({ records, next }, from ScanListings). The cursor is `<first slot of
 * the master>-<its own cursor>`: a page may end on one master and go on with the next.
 * After a reshard (a master's first slot changed) it goes on with the first master not
 * below the cursor's slot.
 */
async function mastersPage(masters, after, limit, page) {
  let index = 0;
  let cursor = null;
  if (after !== null) {
    const match = /^(\d+)-(.*)$/.exec(String(after));
    if (match === null) throw polykvError("ERR_POLYKV_OPTIONS", null, "list() cursor is not one that list() returned");
    const first = Number(match[1]);
    index = masters.findIndex((master) => master.first >= first);
    if (index < 0) return { records: [], next: null };
    if (masters[index].first === first && match[2] !== "") cursor = match[2];
  }
  const records = [];
  while (index < masters.length && records.length < limit) {
    const { records: found, next } = await page(masters[index], cursor, limit - records.length);
    records.push(...found);
    if (next !== null) return { records, next: `${masters[index].first}-${next}` };
    index++;
    cursor = null;
  }
  return { records, next: index < masters.length ? `${masters[index].first}-` : null };
}

module.exports = {
  mastersPage,
  MARKER,
  toWire,
  fromWire,
  isLossyBytes,
  readValue,
  scripts: { SWAP, INCR, TAKE, RECORDS, TOUCH },
  touchArgs,
  swapArgs,
  incrementArgs,
  incrementResult,
  deadlineOf,
  isUnknownCommand,
  recordsOf,
  SCAN_COUNT,
  ScanListings,
};

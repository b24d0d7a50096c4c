"use strict";
// Redis Cluster hash slots (docs/behaviour.md §39): a key's slot is CRC16 (XMODEM) of
// its UTF-8 bytes modulo 16384, or of its hash tag only, the text between the first
// `{` and the first `}` after it when that text is not empty. Keys that share a tag
// share a slot: a prefix like `{tenant}:` keeps a whole substore on one slot, so its
// multi-key operations stay one command each and setMany one transaction.
//
// A command over several keys (MGET, UNLINK, a script, MULTI … EXEC) must keep to one
// slot in a cluster, or it fails with CROSSSLOT: bySlot() and chunks() split them.

const SLOTS = 16384;

const TABLE = new Uint16Array(256);
for (let byte = 0; byte < 256; byte++) {
  let crc = byte << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
  TABLE[byte] = crc & 0xffff;
}

// CRC16 of `text`'s UTF-8 bytes; ASCII without a Buffer.
function crc16(text) {
  let crc = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0x80) return crc16Bytes(Buffer.from(text));
    crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ unit) & 0xff];
  }
  return crc;
}

function crc16Bytes(bytes) {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff];
  return crc;
}

/** The hash slot of a key (a string), as CLUSTER KEYSLOT answers. */
function slotOf(key) {
  const open = key.indexOf("{");
  if (open >= 0) {
    const close = key.indexOf("}", open + 1);
    if (close > open + 1) return crc16(key.slice(open + 1, close)) % SLOTS;
  }
  return crc16(key) % SLOTS;
}

/** The indices of `keys` grouped by slot: Map slot → indices, in first-seen order. */
function bySlot(keys, keyOf = (key) => key) {
  const groups = new Map();
  for (let i = 0; i < keys.length; i++) {
    const slot = slotOf(keyOf(keys[i]));
    const group = groups.get(slot);
    if (group === undefined) groups.set(slot, [i]);
    else group.push(i);
  }
  return groups;
}

/** `keys` in pieces of at most `size`; in a cluster (`cluster` true) each within one slot. */
function chunks(keys, size, cluster) {
  const pieces = [];
  const groups = cluster ? [...bySlot(keys).values()].map((group) => group.map((i) => keys[i])) : [keys];
  for (const group of groups) {
    for (let i = 0; i < group.length; i += size) pieces.push(group.length <= size ? group : group.slice(i, i + size));
  }
  return pieces;
}

module.exports = { SLOTS, slotOf, bySlot, chunks };

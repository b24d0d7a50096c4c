"use strict";
// The data model beyond polystore's JSON values, written once for every driver:
// metadata beside a value, binary values, and typed reads (docs/behaviour.md §26–28).
//
// A record with neither metadata nor bytes is stored exactly as today (the value's
// JSON text), so polystore and polykv keep reading each other's data. A driver that
// holds only JSON text gets the other records as one tagged JSON object:
//   {"$polykv":1,"value":<the value>,"metadata":<metadata>}
//   {"$polykv":1,"bytes":"<base64>","metadata":<metadata>}   (metadata omitted when none)
// A value of the caller's that would read as such a tag (a top-level object with a
// "$polykv" key) is wrapped the same way, so every stored object carrying the tag is
// ours and nothing a caller stores is ever misread. A driver that keeps bytes itself
// (`caps.bytes`) receives a Uint8Array instead; one that keeps metadata itself
// (`caps.metadata`) receives it as an argument and returns it in its records.

const { encode } = require("./json.js");
const { polykvError, describe } = require("./errors.js");

const TAG = "$polykv";
/** Metadata's JSON text is at most this many UTF-8 bytes (as Workers KV). */
const METADATA_MAX_BYTES = 1024;
/** The largest binary value (as Workers KV): 25 MiB. */
const BYTES_MAX = 25 * 1024 * 1024;

const TYPES = new Set(["json", "text", "bytes", "arrayBuffer", "stream"]);
const hasBuffer = typeof Buffer === "function";
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Whether `value` is binary data: a Buffer, a Uint8Array or other ArrayBuffer view, or an ArrayBuffer. */
function isBytes(value) {
  return value instanceof Uint8Array || ArrayBuffer.isView(value) || value instanceof ArrayBuffer;
}

/** The bytes of `value` (isBytes) as a Uint8Array over the same memory (no copy). */
function asUint8(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function toBase64(bytes) {
  if (hasBuffer) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function fromBase64(text) {
  if (hasBuffer) return Buffer.from(text, "base64");
  return Uint8Array.from(atob(text), (char) => char.charCodeAt(0));
}

/** Bytes to store for `value`, or ERR_POLYKV_VALUE when they are over the limit. */
function checkedBytes(id, value) {
  const bytes = asUint8(value);
  if (bytes.byteLength > BYTES_MAX) {
    throw polykvError(
      "ERR_POLYKV_VALUE",
      null,
      `cannot store the value for key "${id}": ${bytes.byteLength} bytes is over the 25 MiB limit`,
    );
  }
  return bytes;
}

/** Metadata's JSON text (null: none), or ERR_POLYKV_VALUE when it is not JSON or over 1024 bytes. */
function metadataText(id, metadata) {
  if (metadata === undefined || metadata === null) return null;
  let text;
  try {
    text = JSON.stringify(metadata);
  } catch {
    text = undefined;
  }
  if (text === undefined) {
    throw polykvError(
      "ERR_POLYKV_VALUE",
      null,
      `the metadata for key "${id}" must be a JSON value, got ${describe(metadata)}`,
    );
  }
  const size = hasBuffer ? Buffer.byteLength(text) : utf8.encode(text).byteLength;
  if (size > METADATA_MAX_BYTES) {
    throw polykvError(
      "ERR_POLYKV_VALUE",
      null,
      `the metadata for key "${id}" is ${size} bytes of JSON, over the ${METADATA_MAX_BYTES}-byte limit`,
    );
  }
  return text;
}

/**
 * What a driver that serializes stores for `value`: its JSON text; a Uint8Array for
 * bytes where the driver keeps bytes (`caps.bytes`) and there is no metadata; else
 * the tagged object's JSON text. `meta` is metadataText()'s result; the driver's own
 * metadata (`caps.metadata`) is passed to it separately, never tagged.
 */
function storedText(id, value, meta, caps) {
  const tagMeta = caps.metadata ? null : meta;
  const withMeta = tagMeta === null ? "" : `,"metadata":${tagMeta}`;
  if (typeof value === "object" && value !== null && isBytes(value)) {
    const bytes = checkedBytes(id, value);
    if (caps.bytes && tagMeta === null) return bytes;
    return `{"${TAG}":1,"bytes":"${toBase64(bytes)}"${withMeta}}`;
  }
  const text = encode(id, value);
  // A top-level object that mentions the tag is wrapped; a false positive (the tag
  // nested deeper) only costs a wrapper.
  if (tagMeta === null && !(text.charCodeAt(0) === 123 && text.includes(`"${TAG}"`))) return text;
  return `{"${TAG}":1,"value":${text}${withMeta}}`;
}

/** Whether a value read back from a serializing driver may be a tagged record (cheap test for get()). */
function mayBeTagged(stored) {
  return typeof stored === "object" && stored !== null && (stored[TAG] !== undefined || ArrayBuffer.isView(stored));
}

/**
 * The caller's value and metadata from what a serializing driver returned (its
 * parsed JSON, or bytes): `{ value, metadata }`, metadata null when none.
 */
function openStored(stored, type) {
  if (typeof stored !== "object" || stored === null) return { value: stored ?? null, metadata: null };
  if (ArrayBuffer.isView(stored)) return { value: asUint8(stored), metadata: null };
  const tag = stored[TAG];
  if (tag === undefined) return { value: stored, metadata: null };
  if (tag !== 1 || ("bytes" in stored ? typeof stored.bytes !== "string" : !("value" in stored))) {
    throw polykvError("ERR_POLYKV_CORRUPT", type, `a stored record carries the "${TAG}" tag but is not one of ours`);
  }
  const value = "bytes" in stored ? fromBase64(stored.bytes) : stored.value;
  return { value, metadata: stored.metadata ?? null };
}

/** The value alone (get()'s hot path: only objects are looked at). */
function openValue(stored, type) {
  return mayBeTagged(stored) ? openStored(stored, type).value : stored;
}

/** `get(key, type)`'s `type`: a string or `{ type }`; undefined means json. Throws on anything else. */
function readType(option) {
  const type = typeof option === "object" && option !== null ? option.type : option;
  if (type === undefined || type === null) return "json";
  if (!TYPES.has(type)) {
    throw polykvError(
      "ERR_POLYKV_OPTIONS",
      null,
      `the read type must be one of "json", "text", "bytes", "arrayBuffer", "stream"; got ${typeof type === "string" ? `"${type}"` : describe(type)}`,
    );
  }
  return type;
}

function bytesOf(value) {
  if (isBytes(value)) return asUint8(value);
  return utf8.encode(typeof value === "string" ? value : JSON.stringify(value));
}

/**
 * A live value as the read type asks: "json" as stored; "text" a string as it is,
 * bytes as UTF-8, anything else as its JSON text; "bytes"/"arrayBuffer" bytes as
 * they are, a string as its UTF-8 bytes, anything else as the bytes of its JSON
 * text; "stream" a ReadableStream of those bytes. A missing value stays null.
 */
function asType(value, type) {
  if (value === null || type === "json") return value;
  if (type === "text") {
    if (typeof value === "string") return value;
    if (isBytes(value)) return fromUtf8.decode(asUint8(value));
    return JSON.stringify(value);
  }
  const bytes = bytesOf(value);
  if (type === "bytes") return bytes;
  if (type === "arrayBuffer") return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

module.exports = {
  TAG,
  METADATA_MAX_BYTES,
  BYTES_MAX,
  isBytes,
  asUint8,
  checkedBytes,
  metadataText,
  storedText,
  mayBeTagged,
  openStored,
  openValue,
  readType,
  asType,
};

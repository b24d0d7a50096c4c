"use strict";
// `kv("file:///abs/data.json")` or a `URL`: one JSON file holding every record
// (docs/behaviour.md §21), in Rust (src/backend/file.rs): reads from memory while the file is
// unchanged, writes through a temp file and a rename under an advisory lock, the
// writes of one tick batched into one rewrite. The file holds JSON text only: bytes
// and metadata go in polykv's tagged record (lib/record.js), bytes as base64.

const path = require("node:path");
const { fileUrl, isFolderUrl } = require("../url.js");
const { polykvError } = require("../errors.js");
const { addon } = require("../addon.js");
const { BatchingDriver, pathFromFileUrl, followsSymlinks } = require("../native-store.js");

// Any file: URL not ending in "/" is ours, so a URL without an extension gets a
// clear error below instead of "Adapter should have .get() and .set()".
function test(input) {
  const href = fileUrl(input);
  return href !== null && !isFolderUrl(href);
}

function create(input) {
  const href = fileUrl(input);
  const file = pathFromFileUrl(href);
  // extname ignores a leading dot: ".cache" has no extension, ".cache.json" has.
  if (path.extname(file).length < 2) {
    throw polykvError(
      "ERR_POLYKV_CLIENT",
      null,
      `"${href}" is neither a file nor a folder: add an extension for a JSON file (file:///path/data.json) or end it with "/" for a folder (file:///path/data/)`,
    );
  }
  const { NativeStore } = addon("FILE");
  return new BatchingDriver("FILE", NativeStore.file(path.resolve(file), followsSymlinks(href)));
}

module.exports = { name: "FILE", test, create };

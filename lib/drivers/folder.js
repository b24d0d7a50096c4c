"use strict";
// `kv("file:///abs/dir/")` (ending in "/"): one JSON file per key (docs/behaviour.md §22), in
// Rust (src/backend/folder.rs): names that cannot leave the folder, temp-and-rename
// writes, foreign files ignored.

const path = require("node:path");
const { fileUrl } = require("../url.js");
const { addon } = require("../addon.js");
const { NativeDriver, pathFromFileUrl } = require("../native-store.js");

function test(input) {
  const href = fileUrl(input);
  return href !== null && href.endsWith("/");
}

function create(input) {
  const { NativeStore } = addon("FOLDER");
  return new NativeDriver("FOLDER", NativeStore.folder(path.resolve(pathFromFileUrl(fileUrl(input))) + path.sep));
}

module.exports = { name: "FOLDER", test, create };

"use strict";
// `kv("file:///abs/dir/")` (ending in "/"): one JSON file per key (docs/behaviour.md §22), in
// Rust (src/backend/folder.rs): names that cannot leave the folder, temp-and-rename
// writes, foreign files ignored.

const path = require("node:path");
const { fileUrl, isFolderUrl } = require("../url.js");
const { NativeDriver, pathFromFileUrl, followsSymlinks } = require("../native-store.js");

function test(input) {
  const href = fileUrl(input);
  return href !== null && isFolderUrl(href);
}

function create(input) {
  const { NativeStore } = require("../../native.js");
  const href = fileUrl(input);
  return new NativeDriver(
    "FOLDER",
    NativeStore.folder(path.resolve(pathFromFileUrl(href)) + path.sep, followsSymlinks(href)),
  );
}

module.exports = { name: "FOLDER", test, create };

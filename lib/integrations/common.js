"use strict";
// What every framework integration shares: the store it is built on, from anything
// kv() takes (nothing: memory; a client, a URL, another store), and the seconds left
// until an absolute deadline. The frameworks themselves are required only by the
// integration file that adapts them, never by polykv's main entry.

const kv = require("../../index.js");

/** The polykv store for `client`: kv(client) (a store is re-wrapped, keeping its prefix). */
function storeOf(client) {
  return kv(client);
}

/** Seconds from now until `deadline` (Unix ms); at or below 0 when it has passed (the store then deletes). */
function secondsUntil(deadline) {
  return (deadline - Date.now()) / 1000;
}

module.exports = { storeOf, secondsUntil };

"use strict";
// The detection table: every client kind polykv recognises, in the order they are
// tried. Each module exports a factory `{ name, test(input), create(input) }`
// (lib/contract.js); `create` returns a driver that keeps the contract. Object
// shapes follow polystore (docs/behaviour.md §4) so the same client gets the same
// `type`. Whatever no factory takes is a custom client (lib/adapt.js).

module.exports = [
  require("./memory.js"), // kv(), kv(new Map())
  require("./redis-native.js"), // redis:// and rediss:// URLs: the native backend
  require("./redis-cluster.js"), // redis+cluster:// and rediss+cluster:// URLs: a Redis Cluster, natively
  require("./redis.js"), // node-redis and ioredis clients
  require("./sqlite.js"), // sqlite: URLs (native) and SQLite database objects
  require("./mysql.js"), // mysql2 / mariadb clients, mysql:// URLs; before pg: they have query() too
  require("./postgres.js"), // pg Client or Pool, postgres:// URLs
  require("./etcd.js"),
  require("./level.js"),
  require("./cloudflare.js"),
  require("./forage.js"),
  require("./storage.js"), // localStorage / sessionStorage
  require("./cookie.js"),
  require("./api.js"), // http(s):// URLs
  require("./file.js"), // file://…/name.ext
  require("./folder.js"), // file://…/ ending in a slash
];

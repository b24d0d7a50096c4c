"use strict";
// The detection table: every client kind polykv recognises, in the order they are
// tried. Each driver module exports a class with `static test(input)` that says
// whether it handles `input` (a client object, a string or a URL). Object shapes
// follow polystore (CONTRACT §4) so the same client gets the same `type`.
//
// A driver speaks the custom-client protocol in native-expiry mode (HAS_EXPIRATION):
//   TYPE, HAS_EXPIRATION = true, connect?()
//   get(fullKey) -> value | null            set(fullKey, value, expiresSeconds | null)
//   del(fullKey)   has(fullKey) -> boolean  iterate(prefix) -> (async) generator of [fullKey, value]
//   clear(prefix) prune() close(), and keys(prefix) entries(prefix) values(prefix)
//   only where the engine answers them better than collecting iterate() (the
//   facade does that collecting itself).
// Any method may return a promise. The facade (index.js) owns key checks, prefixes
// and parsing `expires`; the driver owns storage, serialization and expiry.

module.exports = [
  require("./redis-native.js"), // redis:// and rediss:// URLs: the native Rust backend
  require("./redis.js"), // node-redis and ioredis clients
  require("./sqlite.js"), // sqlite: URLs (native) and SQLite database objects
  require("./postgres.js"), // pg Client or Pool
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

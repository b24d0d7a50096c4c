"use strict";
// The detection table of the browser build (browser/polykv.mjs, made by
// scripts/build-browser.mjs): the clients a page has, none of which needs Node or
// the native addon. The Node table is ./index.js; whatever neither takes is a
// custom client (lib/adapt.js), in the browser too.

module.exports = [
  require("./memory.js"), // kv(), kv(new Map())
  require("./forage.js"), // localForage
  require("./storage.js"), // localStorage / sessionStorage
  require("./cookie.js"), // kv("cookie")
  require("./api.js"), // http(s):// URLs: a polykv/server or polystore API
];

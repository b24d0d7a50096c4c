"use strict";
// The detection table of the browser build (browser/polykv.mjs, made by
// scripts/build-browser.mjs): the clients a page has, none of which needs Node or
// the native addon. The Node table is ./index.js; whatever neither takes is a
// custom client (lib/adapt.js), in the browser too.

const { polykvError } = require("../errors.js");

const IN_BROWSER =
  'polykv\'s browser build has memory (kv(), kv(new Map())), localStorage, sessionStorage, cookies (kv("cookie")), localForage, the HTTP API client (kv("https://…")) and custom clients';

// The URLs that open a backend of Node and Bun: refused with what the browser has.
const nodeOnly = {
  name: "NODE_ONLY",
  test(input) {
    const href = typeof URL !== "undefined" && input instanceof URL ? input.href : input;
    return typeof href === "string" && /^(rediss?:|sqlite:|file:)/i.test(href);
  },
  create(input) {
    const href = String(input instanceof URL ? input.href : input);
    const scheme = href.slice(0, href.indexOf(":") + 1).toLowerCase();
    throw polykvError(
      "ERR_POLYKV_UNSUPPORTED",
      null,
      `kv("${scheme}…") opens a backend of Node and Bun (it runs in polykv's native addon), not in a browser: ${IN_BROWSER}. To reach that store from a page, serve it with polykv/server and use kv("https://host/base/")`,
    );
  },
};

module.exports = [
  require("./memory.js"), // kv(), kv(new Map())
  require("./forage.js"), // localForage
  require("./storage.js"), // localStorage / sessionStorage
  require("./cookie.js"), // kv("cookie")
  require("./api.js"), // http(s):// URLs: a polykv/server or polystore API
  nodeOnly, // redis://, sqlite:, file: — Node and Bun only
];

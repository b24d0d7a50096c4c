"use strict";
// polykv/express: an express-session store over any polykv store.
//
//   const session = require("express-session");
//   const polykvStore = require("polykv/express");
//   app.use(session({ store: polykvStore("sqlite:sessions.db"), secret, resave: false, saveUninitialized: false }));
//
// A session lives until its cookie expires (cookie.expires / maxAge); a session cookie
// without an expiry lives `ttl` seconds (default: one day). touch() moves the expiry
// without rewriting the session (store.touch), so a write made by another request in
// between is kept.

const { Store } = require("express-session");
const { storeOf, secondsUntil } = require("./common.js");

const DAY = 24 * 60 * 60;

// Calls back with the result of `work`, as express-session wants (callbacks optional).
function settle(work, callback) {
  const done = work();
  if (typeof callback === "function") done.then((value) => callback(null, value), callback);
  else done.catch(() => {});
}

class ExpressStore extends Store {
  /**
   * @param client anything kv() takes (default: a memory store)
   * @param options `ttl`: seconds a session without a cookie expiry lives (default one day)
   */
  constructor(client, options = {}) {
    super();
    this.store = storeOf(client);
    this.ttl = options.ttl ?? DAY;
  }

  /** The same store type under `prefix` (e.g. "sess:"). */
  prefix(prefix) {
    return new ExpressStore(this.store.prefix(prefix), { ttl: this.ttl });
  }

  // Seconds this session lives: until its cookie expires, else `ttl`.
  #expires(session) {
    const expires = session?.cookie?.expires;
    if (expires === undefined || expires === null || expires === false) return this.ttl;
    return secondsUntil(new Date(expires).getTime());
  }

  get(sid, callback) {
    settle(() => this.store.get(sid), callback);
  }

  set(sid, session, callback) {
    // A store that keeps the very object (memory) gets a copy, so a later change to
    // req.session is not saved behind express-session's back (its MemoryStore copies too).
    const data = this.store.capabilities?.serializes === false ? JSON.parse(JSON.stringify(session)) : session;
    settle(() => this.store.set(sid, data, { expires: this.#expires(session) }).then(() => undefined), callback);
  }

  touch(sid, session, callback) {
    settle(() => this.store.touch(sid, { expires: this.#expires(session) }).then(() => undefined), callback);
  }

  destroy(sid, callback) {
    settle(() => this.store.del(sid).then(() => undefined), callback);
  }

  /** Every live session, keyed by its sid. */
  all(callback) {
    settle(() => this.store.all(), callback);
  }

  /** How many live sessions there are. */
  length(callback) {
    settle(async () => (await this.store.keys()).length, callback);
  }

  clear(callback) {
    settle(() => this.store.clear(), callback);
  }
}

/** An express-session store over `client` (anything kv() takes; default: memory). */
function expressStore(client, options) {
  return new ExpressStore(client, options);
}

expressStore.default = expressStore;
expressStore.ExpressStore = ExpressStore;
module.exports = expressStore;

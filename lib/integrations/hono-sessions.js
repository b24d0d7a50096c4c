"use strict";
// polykv/hono-sessions: a hono-sessions Store over any polykv store.
//
//   import { sessionMiddleware } from "hono-sessions";
//   import polykvStore from "polykv/hono-sessions";
//   app.use("*", sessionMiddleware({ store: polykvStore("redis://localhost:6379"), expireAfterSeconds: 900 }));
//
// A session record expires with its `_expire` (an ISO date hono-sessions sets when
// `expireAfterSeconds` is given); without one it lives until deleted.

const { storeOf, secondsUntil } = require("./common.js");

class HonoSessionStore {
  /** @param client anything kv() takes (default: a memory store) */
  constructor(client) {
    this.store = storeOf(client);
  }

  /** The same store type under `prefix`. */
  prefix(prefix) {
    return new HonoSessionStore(this.store.prefix(prefix));
  }

  async getSessionById(sessionId) {
    if (sessionId === undefined) return null;
    return this.store.get(sessionId);
  }

  async createSession(sessionId, initialData) {
    await this.#save(sessionId, initialData);
  }

  async persistSessionData(sessionId, sessionData) {
    await this.#save(sessionId, sessionData);
  }

  async deleteSession(sessionId) {
    await this.store.del(sessionId);
  }

  #save(sessionId, data) {
    const expires = data?._expire ? secondsUntil(new Date(data._expire).getTime()) : null;
    return this.store.set(sessionId, data, { expires });
  }
}

/** A hono-sessions store over `client` (anything kv() takes; default: memory). */
function honoSessionStore(client) {
  return new HonoSessionStore(client);
}

honoSessionStore.default = honoSessionStore;
honoSessionStore.HonoSessionStore = HonoSessionStore;
module.exports = honoSessionStore;

"use strict";
// The store's events, in Node's EventEmitter shape (on/once/off/listenerCount) but
// without node:events, so the same code runs in Node, Bun and the browser build.
// Drivers report through the one function the facade gives them (`driver.notify`);
// an event nobody listens to is dropped, so an `error` without a listener never
// throws, unlike EventEmitter's.

class Events {
  #listeners = new Map();

  on(event, listener) {
    if (typeof listener !== "function") throw new TypeError(`[polykv] a listener must be a function`);
    const list = this.#listeners.get(event) ?? [];
    this.#listeners.set(event, [...list, { listener, once: false }]);
  }

  once(event, listener) {
    this.on(event, listener);
    this.#listeners.get(event).at(-1).once = true;
  }

  off(event, listener) {
    const list = this.#listeners.get(event);
    if (!list) return;
    const i = list.findLastIndex((entry) => entry.listener === listener);
    if (i >= 0) this.#listeners.set(event, list.toSpliced(i, 1));
  }

  listenerCount(event) {
    return this.#listeners.get(event)?.length ?? 0;
  }

  /** Calls the listeners of `event` (none: nothing happens); a listener's throw is left uncaught, as in Node. */
  emit(event, payload) {
    const list = this.#listeners.get(event);
    if (!list || list.length === 0) return false;
    if (list.some((entry) => entry.once)) {
      this.#listeners.set(
        event,
        list.filter((entry) => !entry.once),
      );
    }
    for (const { listener } of list) {
      try {
        listener(payload);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    return true;
  }
}

module.exports = { Events };

"use strict";
// The `connect` and `disconnect` events of a network driver that reconnects on its
// own inside its client (pg, etcd3, fetch): the driver's calls tell the state. The
// first call answered after none was (or after a lost connection) is `connect`; the
// first call that fails because the server is gone is `disconnect`; one event per
// transition, never one per failed call (docs/behaviour.md §34). Native Redis owns
// its socket and reports its own transitions.

const { isThenable } = require("./contract.js");

// The driver methods that reach the server (iterate, a generator, is left as it is).
const CALLS = [
  "connect",
  "get",
  "getRecord",
  "set",
  "del",
  "has",
  "keys",
  "entries",
  "values",
  "clear",
  "prune",
  "getRaw",
  "swap",
  "increment",
  "getAndDelete",
  "getMany",
  "setMany",
  "delMany",
  "touch",
  "listPage",
];

/**
 * Wraps `driver`'s calls so their outcomes drive its events; `isConnectionError(error)`
 * tells a lost server from a refused operation. Returns the driver.
 */
function watchCalls(driver, isConnectionError) {
  let up = false;
  const answered = (result) => {
    if (!up) {
      up = true;
      driver.notify?.("connect");
    }
    return result;
  };
  const failed = (error) => {
    if (up && isConnectionError(error)) {
      up = false;
      driver.notify?.("disconnect", error);
    }
    throw error;
  };
  for (const name of CALLS) {
    const call = driver[name];
    if (typeof call !== "function") continue;
    driver[name] = function watched(...args) {
      let result;
      try {
        result = call.apply(driver, args);
      } catch (error) {
        return failed(error);
      }
      if (!isThenable(result)) return answered(result);
      // While the server answers, only a failure is looked at.
      return up ? result.catch(failed) : result.then(answered, failed);
    };
  }
  return driver;
}

module.exports = { watchCalls };

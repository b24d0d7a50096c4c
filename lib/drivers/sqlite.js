"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

class SqliteDriver {
  static test(input) {
    return (typeof input === "string" && /^sqlite:/i.test(input)) || (typeof input?.prepare === "function" && typeof input?.exec === "function");
  }

  constructor() {
    throw new Error("[polykv] the SQLITE backend is not supported yet");
  }
}

module.exports = SqliteDriver;

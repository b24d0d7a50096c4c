"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

class PostgresDriver {
  static test(input) {
    return Boolean(input && typeof input === "object" && typeof input.query === "function" && !input.filename);
  }

  constructor() {
    throw new Error("[polykv] the POSTGRES backend is not supported yet");
  }
}

module.exports = PostgresDriver;

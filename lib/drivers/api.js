"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

class ApiDriver {
  static test(input) {
    return typeof input === "string" && /^https?:\/\//i.test(input);
  }

  constructor() {
    throw new Error("[polykv] the API backend is not supported yet");
  }
}

module.exports = ApiDriver;

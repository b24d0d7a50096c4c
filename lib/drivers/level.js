"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

class LevelDriver {
  static test(input) {
    return Boolean(input && typeof input === "object" && input.attachResource && input.detachResource);
  }

  constructor() {
    throw new Error("[polykv] the LEVEL backend is not supported yet");
  }
}

module.exports = LevelDriver;

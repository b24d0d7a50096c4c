"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

class ForageDriver {
  static test(input) {
    return Boolean(input && input.defineDriver && input.dropInstance);
  }

  constructor() {
    throw new Error("[polykv] the FORAGE backend is not supported yet");
  }
}

module.exports = ForageDriver;

"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

class CookieDriver {
  static test(input) {
    return input === "cookie" || input === "cookies";
  }

  constructor() {
    throw new Error("[polykv] the COOKIE backend is not supported yet");
  }
}

module.exports = CookieDriver;

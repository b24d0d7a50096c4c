"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

class StorageDriver {
  static test(input) {
    return typeof Storage !== "undefined" && input instanceof Storage;
  }

  constructor() {
    throw new Error("[polykv] the STORAGE backend is not supported yet");
  }
}

module.exports = StorageDriver;

"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

const { fileUrl } = require("../url.js");

class FileDriver {
  static test(input) {
    return fileUrl(input) !== null && !fileUrl(input).endsWith("/");
  }

  constructor() {
    throw new Error("[polykv] the FILE backend is not supported yet");
  }
}

module.exports = FileDriver;

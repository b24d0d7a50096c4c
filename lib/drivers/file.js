"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

const { fileUrl } = require("../url.js");

class FileDriver {
  static test(input) {
    return /\.[^/.]+$/.test(fileUrl(input) ?? "");
  }

  constructor() {
    throw new Error("[polykv] the FILE backend is not supported yet");
  }
}

module.exports = FileDriver;

"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

class CloudflareDriver {
  static test(input) {
    return Boolean(input && typeof input === "object" && ["getWithMetadata", "get", "list", "delete"].every((m) => typeof input[m] === "function"));
  }

  constructor() {
    throw new Error("[polykv] the CLOUDFLARE backend is not supported yet");
  }
}

module.exports = CloudflareDriver;

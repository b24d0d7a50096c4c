"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

class EtcdDriver {
  static test(input) {
    return Boolean(input && typeof input === "object" && input.leaseClient && input.watchClient && input.watchManager);
  }

  constructor() {
    throw new Error("[polykv] the ETCD3 backend is not supported yet");
  }
}

module.exports = EtcdDriver;

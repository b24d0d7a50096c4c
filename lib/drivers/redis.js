"use strict";
// Placeholder: detection is in place so `type` is right; the backend lands with its issue.

class RedisDriver {
  static test(input) {
    return (typeof input === "string" && /^rediss?:\/\//i.test(input)) || Boolean(input && input.pSubscribe && input.sSubscribe);
  }

  constructor() {
    throw new Error("[polykv] the REDIS backend is not supported yet");
  }
}

module.exports = RedisDriver;

// The conformance suite: written once, run over every store factory in
// backends.spec.mjs (polykv's backends and polystore itself as the reference).
//
// `run(row)` registers the tests for one row:
//   row.name      label
//   row.make()    async () => an empty store (a fresh one per test group; a
//                 service-backed row returns a store under a random prefix)
//   row.caps      what the store promises:
//     copies      values come back as deep-equal copies (false: the very object)
//     serializes  the store JSON-encodes values (a cyclic value must be refused)
//     group       keys/values/entries/iteration work (false: custom client without iterate)
//     expiryMs    expiry works at 10 ms resolution
//     polykv      polykv-only promises (strict mode, TypeErrors, uniform keys…)
//   row.kv        the kv() that made the store, for re-wrapping (default: polykv)
import { describe } from "node:test";
import polykv from "../../index.mjs";
import basics from "./basics.mjs";
import group from "./group.mjs";
import expiry from "./expiry.mjs";
import store from "./store.mjs";
import values from "./values.mjs";

const defaults = { copies: true, serializes: true, group: true, expiryMs: true, polykv: true };

export function run(row) {
  const caps = { ...defaults, ...row.caps, kv: row.kv ?? polykv };
  describe(row.name, () => {
    for (const topic of [basics, group, expiry, store, values]) topic(row.make, caps);
  });
}

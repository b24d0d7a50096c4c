// The conformance suite: written once, run over every store factory in
// backends.spec.mjs (polykv's backends and polystore itself as the reference).
//
// `run(row)` registers the tests for one row:
//   row.name      label
//   row.make()    async () => an empty store (a fresh one per test group; a
//                 service-backed row returns a store under a random prefix)
//   row.caps      what the store promises (read through capsOf() only), as in
//                 lib/contract.js where the name is there:
//     listing     keys/values/entries/iteration work (false: custom client without iterate)
//     serializes  the facade JSON-encodes values (a cyclic value is a TypeError)
//     expiryMs    expiry works at 10 ms resolution
//     copies      values come back as deep-equal copies (false: the very object);
//                 default: what `serializes` says
//     polykv      polykv-only promises (strict mode, TypeErrors, uniform keys…)
//   row.kv        the kv() that made the store, for re-wrapping (default: polykv)
import { describe } from "node:test";
import polykv from "../../index.mjs";
import basics from "./basics.mjs";
import group from "./group.mjs";
import expiry from "./expiry.mjs";
import store from "./store.mjs";
import values from "./values.mjs";

const defaults = { listing: true, serializes: true, expiryMs: true, polykv: true };

/**
 * The capabilities the tests of `row` are chosen by; nothing else reads row.caps.
 * Rows declare them for now. Once stores carry `store.capabilities`
 * (lib/contract.js), the `declared` line becomes
 *   const declared = { ...(await capabilitiesOf(row.make)), ...row.caps };
 * (row.caps then keeps only what a store cannot say of itself: polystore's rows,
 * the custom clients' copies, the HTTP row's expiryMs).
 */
export async function capsOf(row) {
  const declared = row.caps;
  const caps = { ...defaults, ...declared, kv: row.kv ?? polykv };
  caps.copies ??= caps.serializes;
  return caps;
}

/** What a store of `make` declares (lib/contract.js); the store is closed again. */
export async function capabilitiesOf(make) {
  const store = await make();
  try {
    return store.capabilities;
  } finally {
    await store.close();
  }
}

export function run(row) {
  describe(row.name, async () => {
    const caps = await capsOf(row);
    for (const topic of [basics, group, expiry, store, values]) topic(row.make, caps);
  });
}

// The conformance suite: written once, run over every store factory in
// backends.spec.mjs (polykv's backends and polystore itself as the reference),
// cloudflare.spec.mjs and browser.spec.mjs.
//
// `run(row)` registers the tests for one row, twice: "<name> (prefixed)" and
// "<name> (unprefixed)".
//   row.name      label
//   row.make(options, place)  an empty store, made with `options`: { prefix } (a
//                 fresh random prefix per store) or {} (unprefixed). A row that
//                 makes a fresh store each time (memory, a new file, a new
//                 namespace) is private either way and ignores `place`.
//   row.place(options)  for a row on a shared server (fixtures/places.mjs): where
//                 to connect, passed to make() as `place`. Unprefixed, it must be a
//                 place of this run's own, empty, so the store's unprefixed clear()
//                 cannot touch anyone else's data.
//   row.caps      what the store promises (read through capsOf() only), as in
//                 lib/contract.js where the name is there:
//     listing     keys/values/entries/iteration work (false: custom client without iterate)
//     serializes  the facade JSON-encodes values (a cyclic value is a TypeError)
//     expiryMs    expiry works at 10 ms resolution
//     ordered     keys(), entries() and iteration come in ascending code-point order
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
import { freshPrefix } from "./helpers.mjs";

const defaults = { listing: true, serializes: true, expiryMs: true, ordered: false, polykv: true };

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

/** The row's two variants: under a fresh prefix, and unprefixed on a private place. */
export function variants(row) {
  const variant = (label, options) => ({
    ...row,
    name: `${row.name} (${label})`,
    make: async () => {
      const opts = options();
      return row.make(opts, row.place ? await row.place(opts) : undefined);
    },
  });
  return [variant("prefixed", () => ({ prefix: freshPrefix("suite") })), variant("unprefixed", () => ({}))];
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
  for (const each of variants(row)) {
    describe(each.name, async () => {
      const caps = await capsOf(each);
      for (const topic of [basics, group, expiry, store, values]) topic(each.make, caps);
    });
  }
}

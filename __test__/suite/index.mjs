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
//     deadlines   false: the store cannot read a record's deadline back (cookies,
//                 RAW custom clients): getWithMetadata()/list() report none
//     maxValueBytes, maxKeys  the most bytes in one value / keys in one store the
//                 backend physically holds (etcd's request limit, cookies, Web Storage)
//   row.kv        the kv() that made the store, for re-wrapping (default: polykv)
import { describe } from "node:test";
import polykv from "../../index.mjs";
import basics from "./basics.mjs";
import group from "./group.mjs";
import expiry from "./expiry.mjs";
import store from "./store.mjs";
import values from "./values.mjs";
import datamodel from "./datamodel.mjs";
import atomic from "./atomic.mjs";
import operate from "./operate.mjs";
import { freshPrefix } from "./helpers.mjs";

const defaults = { listing: true, serializes: true, expiryMs: true, ordered: false, polykv: true };

/**
 * The capabilities the tests of `row` are chosen by: what a polykv store declares
 * (`store.capabilities`, lib/contract.js), so a backend that lacks one is skipped
 * for it by its driver's declaration. row.caps adds only what a store cannot say of
 * itself: polystore's rows (row.kv), the custom clients that copy values
 * themselves, and the HTTP row's test-machine round trip (expiryMs).
 */
export async function capsOf(row) {
  const declared = row.kv ? row.caps : { ...(await capabilitiesOf(row.probe)), ...row.caps };
  const caps = { ...defaults, ...declared, kv: row.kv ?? polykv };
  caps.copies ??= caps.serializes;
  return caps;
}

/**
 * The row's two variants: under a fresh prefix, and unprefixed on a private place.
 * Both read their capabilities from `probe`: a store of the same kind, made while
 * other tests may be running, so it must touch nothing they use. By default it is
 * a prefixed store on the shared place; a row whose make() empties shared state
 * (the page's storage, its cookies) gives a `probe` of its own that does not.
 */
export function variants(row) {
  const maker = (options) => async () => {
    const opts = options();
    return row.make(opts, row.place ? await row.place(opts) : undefined);
  };
  const prefixed = maker(() => ({ prefix: freshPrefix("suite") }));
  const probe = row.probe ?? prefixed;
  return [
    { ...row, name: `${row.name} (prefixed)`, make: prefixed, probe },
    // Its private place is made up front (run(), below), while the tests are collected:
    // making one (a Redis Cluster of its own) can take longer than a test's hook may.
    { ...row, name: `${row.name} (unprefixed)`, make: maker(() => ({})), probe, prepare: () => row.place?.({}) },
  ];
}

/** What a store of `make` declares (lib/contract.js); the store is closed again. */
export async function capabilitiesOf(make) {
  const store = await make();
  try {
    if (store.capabilities === null || typeof store.capabilities !== "object") {
      throw new Error(`a polykv store must declare its capabilities, got ${store.capabilities}`);
    }
    return store.capabilities;
  } finally {
    await store.close();
  }
}

export function run(row) {
  for (const each of variants(row)) {
    describe(each.name, async () => {
      await each.prepare?.();
      const caps = await capsOf(each);
      for (const topic of [basics, group, expiry, store, values, datamodel, atomic, operate]) topic(each.make, caps);
    });
  }
}

// Differential tests against polystore 0.27.1, the oracle: the same inputs go to
// both libraries and the observable results must match.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import polystore from "polystore";
import kv from "../index.mjs";

describe("expires parser matches polystore", () => {
  const inputs = [
    0,
    1,
    0.01,
    2.5,
    -1,
    3600,
    null,
    undefined,
    "0",
    "1",
    "10",
    "10s",
    "0.5s",
    ".5s",
    "5.",
    "1e3",
    "1e3ms",
    "1e-3",
    "-5s",
    " 10s ",
    "10 s",
    "10   seconds",
    "100ms",
    "1msec",
    "1 millisecond",
    "250milliseconds",
    "1sec",
    "2secs",
    "1second",
    "3seconds",
    "1m",
    "1min",
    "2mins",
    "1minute",
    "2minutes",
    "1h",
    "1hr",
    "2hrs",
    "1hour",
    "3hours",
    "1d",
    "1day",
    "2days",
    "1w",
    "1wk",
    "2wks",
    "1week",
    "2weeks",
    "1y",
    "1yr",
    "2yrs",
    "1year",
    "2years",
    "1b",
    "1month",
    "2months",
    "1_000",
    "1,000s",
    "1_000_000ms",
    "1.5h",
    "0.0004s",
    "0.0005s",
    "1.0005s",
    "10S",
    "2Minutes",
    "1H",
    "potato",
    "5potato",
    "",
    " ",
    "s",
    "1h 30m",
    "1h30m",
    "ten seconds",
    "1 2s",
    "e5",
    "1e",
    "1e5s",
    "+5s",
    "5ss",
    "5mss",
    "0x10",
    "Infinity",
    "1ñ",
  ];
  for (const input of inputs) {
    it(`expires(${JSON.stringify(input)})`, () => {
      const theirs = polystore().expires(input).EXPIRES;
      const ours = kv().expires(input).EXPIRES;
      assert.equal(ours, theirs);
    });
  }
});

// A small deterministic PRNG so a failure can be replayed from its seed.
function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const keys = ["a", "b", "a:b", "a:c", "ab", "", "ñ", "x:y:z", "5"];
const valuesPool = [0, 1, -2.5, "", "s", false, true, [1, [2]], { o: { p: 1 } }, null];
const prefixes = ["", "a:", "a", "x:", "x:y:"];
const expiresPool = [undefined, null, 0, -1, 3600, "1h", "potato"];

function randomOp(next) {
  const pick = (list) => list[Math.floor(next() * list.length)];
  const kind = pick([
    "set",
    "set",
    "set",
    "get",
    "has",
    "del",
    "keys",
    "values",
    "entries",
    "all",
    "clear",
    "add",
    "iterate",
  ]);
  return { kind, prefix: pick(prefixes), key: pick(keys), value: pick(valuesPool), expires: pick(expiresPool) };
}

async function apply(root, op, addedKeys) {
  const store = op.prefix ? root.prefix(op.prefix) : root;
  const sortEntries = (list) => list.map((e) => JSON.stringify(e)).sort();
  switch (op.kind) {
    case "set":
      return store.set(op.key, op.value, op.expires === undefined ? undefined : { expires: op.expires });
    case "get":
      return store.get(op.key);
    case "has":
      return store.has(op.key);
    case "del":
      return store.del(op.key);
    case "keys":
      return (await store.keys()).sort();
    case "values":
      return (await store.values()).map((v) => JSON.stringify(v)).sort();
    case "entries":
      return sortEntries(await store.entries());
    case "all":
      return sortEntries(Object.entries(await store.all()));
    case "clear":
      return store.clear();
    case "iterate": {
      const seen = [];
      for await (const entry of store) seen.push(entry);
      return sortEntries(seen);
    }
    case "add": {
      // Random keys differ by design; compare what is stored under them instead.
      const key = await store.add(op.value);
      addedKeys.push(op.prefix + key);
      return typeof key === "string" && key.length === 24;
    }
  }
  throw new Error(`unknown op ${op.kind}`);
}

describe("random operation sequences give the same results as polystore", () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
    for (const [label, make] of [
      ["kv()", (lib) => lib()],
      ["kv(new Map())", (lib) => lib(new Map())],
    ]) {
      it(`${label}, seed ${seed}`, async () => {
        const next = random(seed);
        const ours = make(kv);
        const theirs = make(polystore);
        const oursAdded = [];
        const theirsAdded = [];
        for (let step = 0; step < 300; step += 1) {
          const op = randomOp(next);
          // polystore has has(k) true / get(k) null after set(k, undefined); we delete.
          // undefined is not in the pool, so every op here must agree.
          const [a, b] = [await apply(ours, op, oursAdded), await apply(theirs, op, theirsAdded)];
          assert.deepEqual(a, b, `seed ${seed} step ${step}: ${JSON.stringify(op)}`);
          // Keys made by add() differ; remove them from both so later listings compare.
          for (const key of oursAdded.splice(0)) await ours.del(key);
          for (const key of theirsAdded.splice(0)) await theirs.del(key);
        }
      });
    }
  }
});

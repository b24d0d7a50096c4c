// @ts-check
// Plain CommonJS JavaScript checked by tsc (checkJs): `require("polykv")` is typed.
const kv = require("polykv");

const store = kv(undefined, { prefix: "cjs:" });
/** @type {import("polykv").Store} */
const same = store;
/** @type {number | null} */
const seconds = kv.parseExpires("1h");

async function run() {
  const key = await store.set("a", { list: [1, 2, 3] }, { expires: seconds });
  /** @type {import("polykv").Serializable | null} */
  const value = await store.get(key);
  // @ts-expect-error a function is not a storable value, in JS files too
  await store.set("f", () => 1);
  return [same, value];
}

module.exports = { run };

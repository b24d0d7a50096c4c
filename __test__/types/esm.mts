// ESM consumers (module nodenext, an .mts file): `import kv from "polykv"` is the function,
// and the named exports index.mjs has are typed too.
import kv, { kv as named, Store, parseExpires, type Serializable } from "polykv";
import * as polykv from "polykv";

type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
function expect<T extends true>(): void {}

const store = kv<{ n: number }>(undefined, { prefix: "esm:" });
expect<Equal<typeof store, Store<{ n: number }>>>();
expect<Equal<typeof named, typeof kv>>();
expect<Equal<typeof polykv.default, typeof kv>>();
const seconds: number | null = parseExpires("1h");
const plain: Store<Serializable> = new Store();
await store.set("a", { n: 1 });
const a = await store.get("a");
expect<Equal<typeof a, { n: number } | null>>();
void [seconds, plain];

// CommonJS consumers written in TypeScript (module nodenext, a .cts file): `import x = require()`
// is TypeScript's spelling of `const kv = require("polykv")`.
import kv = require("polykv");

type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
function expect<T extends true>(): void {}

const store = kv(new Map(), { expires: "10 minutes" });
expect<Equal<typeof store, kv.Store<kv.Serializable>>>();
expect<Equal<typeof kv.default, typeof kv>>();
const typed: kv.Store<string> = kv<string>();
const seconds: number | null = kv.parseExpires("2 days", true);

export async function run(): Promise<string | null> {
  await typed.set("greeting", "hello", { expires: seconds });
  return typed.get("greeting");
}

// Metadata, binary values, typed reads and paginated listing, as in Workers KV.
// Run it with `node examples/datamodel.mjs`.
import kv, { hash } from "polykv";

const store = kv();

await store.set("user:1", { name: "Ada" }, { metadata: { plan: "pro" }, expires: "1d" });
await store.set("user:2", { name: "Linus" });
const { value, metadata, expires } = await store.getWithMetadata("user:1");
console.log(value, metadata, "expires", new Date(expires).toISOString());

await store.set("avatar:1", new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
console.log("bytes:", await store.get("avatar:1", "bytes"));
console.log("as text:", await store.get("user:1", "text"));

let cursor;
do {
  const page = await store.list({ prefix: "user:", limit: 1, cursor });
  console.log("page:", page.keys);
  cursor = page.cursor;
} while (cursor);

const key = await store.setWithCache("assets/[hash].json", { page: "home" });
console.log("cached as", key, "- hash of 'abc':", hash("abc"));

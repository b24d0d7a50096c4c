// The main use of polykv: an in-memory store. Run it with `node examples/basic.mjs`.
// (Inside this checkout "polykv" resolves to the package itself, through package.json "exports".)
import kv from "polykv";

const store = kv();

// set() and get(): any JSON value, with an optional expiry (seconds or a duration).
await store.set("greeting", { text: "hello", lang: "en" });
await store.set("otp", "492817", { expires: "300ms" });
console.log("greeting:", await store.get("greeting"));
console.log("otp now:", await store.get("otp"));
await new Promise((resolve) => setTimeout(resolve, 400));
console.log("otp after 400 ms:", await store.get("otp")); // expired: null
console.log("missing:", await store.get("nothing-here")); // null, never undefined

// prefix(): a substore that sees only its own keys, and keeps a default expiry.
const sessions = store.prefix("session:").expires("1 day");
await sessions.set("ada", { user: "ada", admin: true });
await sessions.set("linus", { user: "linus", admin: false });
console.log("session keys:", await sessions.keys()); // without the prefix
console.log("all keys:", await store.keys()); // with it

// add(): stores under a new random key and returns it.
const id = await sessions.add({ user: "guest", admin: false });
console.log("added:", id, "->", await sessions.get(id));

// Iteration streams the live entries.
for await (const [key, session] of sessions) {
  console.log(`  ${key}: ${session.user}${session.admin ? " (admin)" : ""}`);
}

await sessions.del("linus");
console.log("has linus:", await sessions.has("linus"));
await sessions.clear(); // only this prefix
console.log("after clearing sessions:", await store.all());

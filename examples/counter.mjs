// A counter that several processes can share: increment() is one atomic step on SQLite,
// so no update is lost (a get-then-set loop lost 629 of 1 500 with three processes).
// Run it with `node examples/counter.mjs`; start it three times at once to see it hold.
import kv from "polykv";
import { tmpdir } from "node:os";
import { join } from "node:path";

const store = kv(`sqlite://${join(tmpdir(), "polykv-counter-example.db")}`);

for (let i = 0; i < 100; i++) await store.increment("visits");
console.log("visits:", await store.get("visits"));

// A rate limit: the window starts with the first hit and is not extended by later ones.
const hits = await store.increment("rate:127.0.0.1", 1, { expires: "1m" });
console.log("hits this minute:", hits, "- window ends in", Math.round((await store.ttl("rate:127.0.0.1")) / 1000), "s");

// A one-time token goes to exactly one caller.
await store.set("otp:42", "492817", { expires: "5m" });
const [first, second] = await Promise.all([store.getAndDelete("otp:42"), store.getAndDelete("otp:42")]);
console.log("token:", first ?? second, "- taken twice?", first !== null && second !== null);
await store.close();

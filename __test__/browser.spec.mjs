// The browser backends under jsdom (a real DOM, Web Storage and cookie jar for
// Node): STORAGE (localStorage / sessionStorage), FORAGE (localForage) and COOKIE.
//
// localForage is tested over two of its drivers: its localStorage driver, and its
// default IndexedDB driver. Node has no IndexedDB, so the IndexedDB driver runs on
// `fake-indexeddb`: despite its name it is a complete, in-memory implementation of
// the IndexedDB API (it passes the W3C web-platform IndexedDB tests), not a stub.
import "fake-indexeddb/auto";
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { JSDOM } from "jsdom";

// The globals a page has, set before localForage loads (it probes them at import).
const dom = new JSDOM("<!doctype html><p>polykv</p>", { url: "https://example.test/app/page" });
for (const name of ["window", "document", "Storage", "localStorage", "sessionStorage"]) {
  globalThis[name] = name === "window" ? dom.window : dom.window[name];
}
after(() => dom.window.close());

const { default: kv } = await import("../index.mjs");
const { default: polystore } = await import("polystore");
const { default: localforage } = await import("localforage");

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

describe("storage driver (localStorage / sessionStorage)", () => {
  it("recognises both storages as STORAGE and keeps them apart", async () => {
    localStorage.clear();
    sessionStorage.clear();
    const local = kv(localStorage);
    const session = kv(sessionStorage);
    assert.equal(local.type, "STORAGE");
    assert.equal(session.type, "STORAGE");
    await local.set("k", "local");
    await session.set("k", "session");
    assert.equal(await local.get("k"), "local");
    assert.equal(await session.get("k"), "session");
    assert.equal(await local.del("k"), "k");
    assert.equal(await local.get("k"), null);
    assert.equal(await session.get("k"), "session");
  });

  it("stores polystore's envelope as JSON text, and each reads the other's items", async () => {
    localStorage.clear();
    const store = kv(localStorage, { prefix: "app:" });
    await store.set("mine", { n: 1 }, { expires: "1 day" });
    const raw = JSON.parse(localStorage.getItem("app:mine"));
    assert.deepEqual(raw.value, { n: 1 });
    assert.ok(raw.expires > Date.now() + 86_000_000);
    const theirs = polystore(localStorage, { prefix: "app:" });
    assert.deepEqual(await theirs.get("mine"), { n: 1 });
    await theirs.set("theirs", [true, null]);
    await theirs.set("brief", 1, { expires: 0.05 });
    assert.deepEqual(await store.get("theirs"), [true, null]);
    assert.equal(await store.get("brief"), 1);
    await sleep(80);
    assert.equal(await store.get("brief"), null);
    assert.deepEqual((await store.keys()).sort(), ["mine", "theirs"]);
  });

  it("hides an expired item at once and prune() removes it; other scripts' items are untouched", async () => {
    localStorage.clear();
    localStorage.setItem("exp:foreign", "not json {");
    localStorage.setItem("exp:number", "42");
    const store = kv(localStorage).prefix("exp:");
    await store.set("short", 1, { expires: 0.05 });
    await store.set("long", 2);
    assert.deepEqual((await store.entries()).sort(), [
      ["long", 2],
      ["short", 1],
    ]);
    await sleep(80);
    assert.equal(await store.has("short"), false);
    assert.deepEqual(await store.entries(), [["long", 2]]);
    assert.notEqual(localStorage.getItem("exp:short"), null);
    await store.prune();
    assert.equal(localStorage.getItem("exp:short"), null);
    assert.equal(localStorage.getItem("exp:foreign"), "not json {");
    assert.equal(localStorage.getItem("exp:number"), "42");
    assert.equal(await store.get("foreign"), null);
  });

  it("clear() under a prefix removes only that prefix", async () => {
    localStorage.clear();
    const store = kv(localStorage);
    await Promise.all(["a:1", "a:2", "a:3", "b:1"].map((key) => store.set(key, key)));
    localStorage.setItem("a:foreign", "x");
    await store.prefix("a:").clear();
    assert.deepEqual(await store.keys(), ["b:1"]);
    assert.equal(localStorage.length, 1);
  });

  it("reports a full storage with an error naming the key, keeping the old value", async () => {
    localStorage.clear();
    const store = kv(localStorage);
    await store.set("k", "old");
    await assert.rejects(store.set("k", "x".repeat(6_000_000)), { message: /\[STORAGE\] cannot store key "k".*quota/ });
    assert.equal(await store.get("k"), "old");
  });
});

for (const [label, driver] of [
  ["localStorage", localforage.LOCALSTORAGE],
  ["IndexedDB", localforage.INDEXEDDB],
]) {
  describe(`forage driver (localForage over ${label})`, () => {
    const instance = () => localforage.createInstance({ name: `polykv-${label}-${Math.random()}`, driver });

    it("is FORAGE, uses the chosen driver, and round-trips values as JSON copies", async () => {
      const forage = instance();
      const store = kv(forage);
      assert.equal(store.type, "FORAGE");
      const value = { when: new Date(0), list: [1, "a", null] };
      await store.set("k", value);
      assert.equal(forage.driver(), driver);
      assert.deepEqual(await store.get("k"), { when: "1970-01-01T00:00:00.000Z", list: [1, "a", null] });
      assert.deepEqual(await forage.getItem("k"), {
        expires: null,
        value: { when: "1970-01-01T00:00:00.000Z", list: [1, "a", null] },
      });
      await assert.rejects(store.set("k", { n: 1n }), { name: "TypeError", message: /key "k".*BigInt/ });
      assert.equal((await store.get("k")).list.length, 3);
    });

    it("reads polystore's items and polystore reads ours", async () => {
      const forage = instance();
      const store = kv(forage).prefix("p:");
      const theirs = polystore(forage).prefix("p:");
      await theirs.set("theirs", { a: 1 });
      await theirs.set("brief", 1, { expires: 0.05 });
      await store.set("mine", [2]);
      assert.deepEqual(await store.get("theirs"), { a: 1 });
      assert.deepEqual(await theirs.get("mine"), [2]);
      await sleep(80);
      assert.deepEqual((await store.keys()).sort(), ["mine", "theirs"]);
      assert.deepEqual((await theirs.keys()).sort(), ["mine", "theirs"]);
    });

    it("hides an expired item at once, prune() removes it, clear() keeps other prefixes", async () => {
      const forage = instance();
      const store = kv(forage);
      await store.set("x:short", 1, { expires: 0.05 });
      await store.set("x:long", 2);
      await store.set("y:other", 3);
      assert.equal(await store.get("x:short"), 1);
      await sleep(80);
      assert.equal(await store.get("x:short"), null);
      assert.deepEqual(await store.prefix("x:").entries(), [["long", 2]]);
      await store.prune();
      assert.deepEqual((await forage.keys()).sort(), ["x:long", "y:other"]);
      await store.prefix("x:").clear();
      assert.deepEqual(await forage.keys(), ["y:other"]);
      const seen = [];
      for await (const entry of store) seen.push(entry);
      assert.deepEqual(seen, [["y:other", 3]]);
    });
  });
}

// Empties the page's cookie jar (jsdom's, private to this process).
function clearCookies() {
  for (const pair of document.cookie.split(";")) {
    const name = pair.split("=")[0].trim();
    if (name) document.cookie = `${name}=; expires=Thu, 01 Jan 1970 00:00:00 GMT`;
  }
}

describe("cookie driver", () => {
  it('kv("cookie") is COOKIE and writes polystore\'s format', async () => {
    clearCookies();
    const store = kv("cookie");
    assert.equal(store.type, "COOKIE");
    assert.equal(kv("cookies").type, "COOKIE");
    await store.set("user id", { name: "Ada; Lovelace=1" });
    assert.equal(document.cookie, `user%20id=${encodeURIComponent(JSON.stringify({ name: "Ada; Lovelace=1" }))}`);
    assert.deepEqual(await store.get("user id"), { name: "Ada; Lovelace=1" });
    assert.equal(await store.has("user id"), true);
    await store.del("user id");
    assert.equal(document.cookie, "");
    assert.equal(await store.get("user id"), null);
  });

  it("reads polystore's cookies, polystore reads ours, and other cookies are skipped", async () => {
    clearCookies();
    document.cookie = "session=abc123";
    document.cookie = "broken=%E0%A4%A";
    const store = kv("cookie");
    const theirs = polystore("cookie");
    await theirs.set("theirs", [1, 2]);
    await store.set("mine", "yes", { expires: 60 });
    assert.deepEqual(await store.get("theirs"), [1, 2]);
    assert.equal(await theirs.get("mine"), "yes");
    assert.deepEqual((await store.keys()).sort(), ["mine", "theirs"]);
    assert.equal(await store.get("session"), null);
    await store.clear();
    assert.equal(document.cookie, "session=abc123; broken=%E0%A4%A");
  });

  it("expires at whole seconds, never before the asked time", async () => {
    clearCookies();
    const store = kv("cookie");
    await store.set("brief", 1, { expires: 0.01 });
    // polystore rounds the deadline down and this cookie could be gone already.
    assert.equal(await store.get("brief"), 1);
    await sleep(1100);
    assert.equal(await store.get("brief"), null);
    assert.deepEqual(await store.keys(), []);
  });

  it("refuses a cookie larger than browsers keep, keeping the old value", async () => {
    clearCookies();
    const store = kv("cookie");
    await store.set("big", "small");
    await assert.rejects(store.set("big", "x".repeat(5000)), { message: /\[COOKIE\].*"big".*4096/ });
    assert.equal(await store.get("big"), "small");
  });

  it('without a document, kv("cookie") still builds and each call rejects with a clear error', async () => {
    const page = globalThis.document;
    delete globalThis.document;
    try {
      const store = kv("cookie");
      assert.equal(store.type, "COOKIE");
      await assert.rejects(store.get("k"), { message: /needs a browser document/ });
      await assert.rejects(store.set("k", 1), { message: /needs a browser document/ });
    } finally {
      globalThis.document = page;
    }
  });

  it("clear() under a prefix removes only that prefix", async () => {
    clearCookies();
    const store = kv("cookie");
    await store.set("a:1", 1);
    await store.set("a:2", 2);
    await store.set("b:1", 3);
    await store.prefix("a:").clear();
    assert.deepEqual(await store.all(), { "b:1": 3 });
  });
});

// The shared conformance suite over the browser stores, run here rather than in
// backends.spec.mjs so the page globals (window, document, Storage) stay in this
// file's process. Each row runs prefixed and unprefixed; every store starts on an
// emptied storage, cookie jar or a new localForage database of this page's own.
// Cookies expire at whole seconds: no 10 ms expiry tests for them.
const { run } = await import("./suite/index.mjs");
// make() empties the page's storage or cookies; the capability probe must not (it runs
// while the tests above may still be running).
// Web Storage holds ~5 million characters per origin (jsdom's quota too) and bytes
// are base64 there: 3 MiB of bytes is what surely fits. A cookie holds 4 096 bytes,
// its name included, and bytes are base64, URI-encoded: 1 000 bytes surely fit. A
// browser keeps ~50-180 cookies per site (50 at least, RFC 6265), and cannot say
// when one expires.
const storageCaps = { maxValueBytes: 3 * 1024 * 1024 };
run({
  name: "polykv kv(localStorage)",
  make: (options) => (localStorage.clear(), kv(localStorage, options)),
  probe: () => kv(localStorage),
  caps: storageCaps,
});
run({
  name: "polykv kv(sessionStorage)",
  make: (options) => (sessionStorage.clear(), kv(sessionStorage, options)),
  probe: () => kv(sessionStorage),
  caps: storageCaps,
});
run({
  name: "polykv kv(localforage) over IndexedDB",
  make: (options) => kv(localforage.createInstance({ name: `suite-${Math.random()}` }), options),
});
run({
  name: 'polykv kv("cookie")',
  make: (options) => (clearCookies(), kv("cookie", options)),
  probe: () => kv("cookie"),
  caps: { maxValueBytes: 1000, maxKeys: 50, deadlines: false },
});

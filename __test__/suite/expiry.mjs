// docs/behaviour.md §16–18: expiry, defaults, parsing, prune.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { sleep, useStore, withinWindow } from "./helpers.mjs";

async function everything(store, key) {
  const seen = {
    get: await store.get(key),
    has: await store.has(key),
  };
  if (store.__listing) {
    seen.keys = (await store.keys()).includes(key);
    seen.values = (await store.values()).length > 0;
    seen.entries = (await store.entries()).some(([k]) => k === key);
    seen.all = key in (await store.all());
    seen.iterate = false;
    for await (const [k] of store) if (k === key) seen.iterate = true;
  }
  return seen;
}

// How soon after its start an attempt must finish for a 10 ms record to be due
// visible: deadlines are kept in whole ms (Date.now() + 10, Date.now() rounding
// down), so a read 9.5 ms after the write may already be past the deadline.
const WINDOW_MS = 8;

export default function expiry(make, caps) {
  describe("expiry", () => {
    const box = useStore(make);
    const sub = (name) => {
      const store = box.store.prefix(`${name}:`);
      // Marks whether group methods are part of "every method" for this store.
      Object.defineProperty(store, "__listing", { value: caps.listing });
      return store;
    };

    if (caps.expiryMs) {
      it("a 10 ms entry is visible right after set and gone 20 ms later, in every method", async () => {
        const store = sub("e1");
        const before = await withinWindow(WINDOW_MS, async () => {
          await store.set("k", { v: 1 }, { expires: 0.01 });
          return { get: await store.get("k"), has: await store.has("k") };
        });
        assert.deepEqual(before, { get: { v: 1 }, has: true });
        await sleep(30);
        const afterwards = await everything(store, "k");
        assert.equal(afterwards.get, null);
        assert.equal(afterwards.has, false);
        for (const method of ["keys", "values", "entries", "all", "iterate"]) {
          if (method in afterwards) assert.equal(afterwards[method], false, method);
        }
      });

      it("a 10 ms entry is listed by the group methods right after set", { skip: !caps.listing }, async () => {
        const store = sub("e2");
        const [keys, entries] = await withinWindow(WINDOW_MS, async () => {
          await store.set("k", "v", { expires: 0.01 });
          return Promise.all([store.keys(), store.entries()]);
        });
        assert.deepEqual(keys, ["k"]);
        assert.deepEqual(entries, [["k", "v"]]);
      });

      it("a store's default expiry applies; per-call null means never, undefined the default", async () => {
        const store = sub("e3").expires(0.01);
        assert.equal(store.EXPIRES, 0.01);
        await store.set("short", 1);
        await store.set("forever", 2, { expires: null });
        await store.set("default", 3, { expires: undefined });
        await sleep(30);
        assert.equal(await store.get("short"), null);
        assert.equal(await store.get("default"), null);
        assert.equal(await store.get("forever"), 2);
      });

      it("add honours expires", async () => {
        const store = sub("e4");
        const [key, value] = await withinWindow(WINDOW_MS, async () => {
          const added = await store.add("soon", { expires: 0.01 });
          return [added, await store.get(added)];
        });
        assert.equal(value, "soon");
        await sleep(30);
        assert.equal(await store.get(key), null);
      });
    }

    it("expires 0 or below deletes", async () => {
      const store = sub("e5");
      for (const expires of [0, -1, "0s", "-5s"]) {
        await store.set("k", "v");
        assert.equal(await store.set("k", "new", { expires }), "k");
        assert.equal(await store.get("k"), null, `expires ${expires}`);
      }
    });

    it("long expiries keep the value", async () => {
      const store = sub("e6");
      await store.set("k1", 1, { expires: "1h" });
      await store.set("k2", 2, { expires: 3600 });
      await store.set("k3", 3, { expires: "2 days" });
      assert.deepEqual([await store.get("k1"), await store.get("k2"), await store.get("k3")], [1, 2, 3]);
    });

    it("EXPIRES holds parsed seconds or null", () => {
      assert.equal(box.store.expires("1h").EXPIRES, 3600);
      assert.equal(box.store.expires("2minutes").EXPIRES, 120);
      assert.equal(box.store.expires().EXPIRES, null);
      assert.equal(box.store.expires(0).EXPIRES, 0);
      assert.equal(box.store.expires(null).EXPIRES, null);
      assert.equal(box.store.expires("1h").prefix("x:").EXPIRES, 3600);
    });

    it("an unknown unit means never expire", async () => {
      const store = sub("e7");
      assert.equal(store.expires("potato").EXPIRES, null);
      await store.set("k", "v", { expires: "5potato" });
      assert.equal(await store.get("k"), "v");
    });

    it("prune keeps live records", async () => {
      const store = sub("e8");
      await store.set("live", 1);
      // Stores without ms expiry (cookies: whole seconds; Cloudflare KV: 60 s at least)
      // only check the live half.
      if (caps.expiryMs) await store.set("gone", 2, { expires: 0.01 });
      await sleep(20);
      await store.prune();
      assert.equal(await store.get("live"), 1);
      assert.equal(await store.get("gone"), null);
    });

    if (caps.polykv) {
      it("strict mode rejects an unparseable expires with a TypeError and stores nothing", async () => {
        const strict = caps.kv(sub("e9"), { strict: true });
        await assert.rejects(
          () => strict.set("k", "v", { expires: "5potato" }),
          (error) => {
            return error instanceof TypeError && /5potato/.test(error.message);
          },
        );
        assert.equal(await strict.get("k"), null);
        assert.throws(() => strict.expires("potato"), TypeError);
        await strict.set("k", "v", { expires: "1h 30m" });
        assert.equal(await strict.get("k"), "v");
      });

      it("an expires over 2^31 - 1 seconds (68 years) is a RangeError, numbers and strings alike, and stores nothing", async () => {
        const store = sub("e11");
        const strict = caps.kv(sub("e12"), { strict: true });
        for (const expires of [1e306, 1e16, 2 ** 31, "1e400ms", "1e13", "69y"]) {
          for (const target of [store, strict]) {
            await assert.rejects(() => target.set("k", "v", { expires }), {
              name: "RangeError",
              code: "ERR_POLYKV_EXPIRES",
              message: /over the maximum of 2147483647 seconds/,
            });
          }
          assert.throws(() => store.expires(expires), RangeError);
        }
        assert.equal(await store.get("k"), null);
        await store.set("k", "v", { expires: 2 ** 31 - 1 }); // the maximum itself is fine
        await store.set("forever", "v", { expires: Infinity });
        assert.equal(await store.get("k"), "v");
        assert.equal(await store.get("forever"), "v");
        // Strict mode also refuses what lenient mode reads only by accident.
        for (const expires of ["10ss", "_1s", "5hs"]) {
          await assert.rejects(() => strict.set("k", "v", { expires }), {
            name: "TypeError",
            code: "ERR_POLYKV_EXPIRES",
          });
        }
      });

      it("an expires of the wrong type is a TypeError", async () => {
        const store = sub("e10");
        await assert.rejects(() => store.set("k", "v", { expires: {} }), TypeError);
        await assert.rejects(() => store.set("k", "v", { expires: NaN }), TypeError);
        assert.equal(await store.get("k"), null);
      });
    }
  });
}

// docs/behaviour.md §30–31: cas, increment, getAndDelete and the bulk methods.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { useStore, sleep } from "./helpers.mjs";

const slack = (caps) => (caps.expiryMs ? 50 : 2000);

export default function atomic(make, caps) {
  if (!caps.polykv) return;

  describe("cas()", () => {
    const box = useStore(make);

    if (!caps.atomic) {
      it("is ERR_POLYKV_UNSUPPORTED where the backend cannot compare and swap", async () => {
        await assert.rejects(box.store.cas("c:any", null, 1), { code: "ERR_POLYKV_UNSUPPORTED" });
        assert.equal(await box.store.has("c:any"), false);
      });
      return;
    }

    it("null or undefined expected means absent", async () => {
      assert.equal(await box.store.cas("c:new", null, { v: 1 }), true);
      assert.deepEqual(await box.store.get("c:new"), { v: 1 });
      assert.equal(await box.store.cas("c:new", undefined, { v: 2 }), false);
      assert.deepEqual(await box.store.get("c:new"), { v: 1 });
    });

    it("replaces a deep-equal value, whatever the key order", async () => {
      await box.store.set("c:deep", { a: 1, b: [1, { c: 2 }] });
      assert.equal(await box.store.cas("c:deep", { b: [1, { c: 2 }], a: 1 }, "next"), true);
      assert.equal(await box.store.get("c:deep"), "next");
    });

    it("changes nothing when the value differs", async () => {
      await box.store.set("c:diff", [1, 2]);
      assert.equal(await box.store.cas("c:diff", [2, 1], "x"), false);
      assert.equal(await box.store.cas("c:diff", null, "x"), false);
      assert.equal(await box.store.cas("c:diff", "1,2", "x"), false);
      assert.deepEqual(await box.store.get("c:diff"), [1, 2]);
      assert.equal(await box.store.cas("c:absent", 1, "x"), false);
      assert.equal(await box.store.has("c:absent"), false);
    });

    it("null or undefined next deletes", async () => {
      await box.store.set("c:del", 5);
      assert.equal(await box.store.cas("c:del", 5, null), true);
      assert.equal(await box.store.has("c:del"), false);
      await box.store.set("c:del2", 5);
      assert.equal(await box.store.cas("c:del2", 5, undefined), true);
      assert.equal(await box.store.has("c:del2"), false);
    });

    it("takes an expiry for the new value", { skip: caps.deadlines === false && "no deadlines to read" }, async () => {
      const before = Date.now();
      assert.equal(await box.store.cas("c:ttl", null, 1, { expires: 3600 }), true);
      const { expires } = await box.store.getWithMetadata("c:ttl");
      assert.ok(Math.abs(expires - (before + 3600_000)) < slack(caps) + 1000, String(expires));
    });

    if (caps.expiryMs) {
      it("an expired value is absent", async () => {
        await box.store.set("c:short", 1, { expires: 0.01 });
        await sleep(30);
        assert.equal(await box.store.cas("c:short", 1, 2), false);
        assert.equal(await box.store.cas("c:short", null, 2), true);
        assert.equal(await box.store.get("c:short"), 2);
      });
    }

    it("20 read-then-cas loops in flight on one counter all win once", async () => {
      await box.store.set("c:counter", 0);
      const wins = await Promise.all(
        Array.from({ length: 20 }, async () => {
          for (let tries = 0; ; tries++) {
            const seen = await box.store.get("c:counter");
            if (await box.store.cas("c:counter", seen, seen + 1)) return tries;
          }
        }),
      );
      assert.equal(wins.length, 20);
      assert.equal(await box.store.get("c:counter"), 20);
    });

    it("compares bytes by content", async () => {
      await box.store.set("c:bytes", Buffer.from([0, 1, 255]));
      assert.equal(await box.store.cas("c:bytes", Buffer.from([0, 1]), "x"), false);
      assert.equal(await box.store.cas("c:bytes", new Uint8Array([0, 1, 255]), "x"), true);
      assert.equal(await box.store.get("c:bytes"), "x");
    });
  });

  describe("increment()", () => {
    const box = useStore(make);

    it("an absent key starts at `by`, then counts", async () => {
      assert.equal(await box.store.increment("i:a"), 1);
      assert.equal(await box.store.increment("i:a"), 2);
      assert.equal(await box.store.increment("i:a", 10), 12);
      assert.equal(await box.store.increment("i:a", -2.5), 9.5);
      assert.equal(await box.store.get("i:a"), 9.5);
      assert.equal(await box.store.increment("i:b", 5), 5);
    });

    it(
      "a new key takes the expiry; later increments keep it",
      {
        skip: caps.deadlines === false && "this store cannot read a deadline back to keep it",
      },
      async () => {
        const before = Date.now();
        assert.equal(await box.store.increment("i:ttl", 1, { expires: 3600 }), 1);
        const first = (await box.store.getWithMetadata("i:ttl")).expires;
        assert.ok(Math.abs(first - (before + 3600_000)) < slack(caps) + 1000, String(first));
        await sleep(5);
        assert.equal(await box.store.increment("i:ttl", 1, { expires: 7200 }), 2);
        assert.equal(await box.store.increment("i:ttl"), 3);
        const later = (await box.store.getWithMetadata("i:ttl")).expires;
        assert.ok(Math.abs(later - first) <= (caps.expiryMs ? 5 : 1000), `${later} vs ${first}`);
      },
    );

    it("a key holding a non-number is a TypeError and stays as it is", async () => {
      for (const [i, value] of ["5", { n: 1 }, [1], true].entries()) {
        await box.store.set(`i:nan:${i}`, value);
        await assert.rejects(box.store.increment(`i:nan:${i}`), { name: "TypeError", code: "ERR_POLYKV_VALUE" });
        assert.deepEqual(await box.store.get(`i:nan:${i}`), value);
      }
    });

    it("a sum beyond a JSON number is a TypeError and changes nothing", async () => {
      await box.store.set("i:max", Number.MAX_VALUE);
      await assert.rejects(box.store.increment("i:max", Number.MAX_VALUE), {
        name: "TypeError",
        code: "ERR_POLYKV_VALUE",
      });
      assert.equal(await box.store.get("i:max"), Number.MAX_VALUE);
    });

    it("`by` must be a finite number", async () => {
      for (const by of ["1", NaN, Infinity, null]) {
        await assert.rejects(box.store.increment("i:by", by), { name: "TypeError", code: "ERR_POLYKV_VALUE" });
      }
      assert.equal(await box.store.has("i:by"), false);
    });

    it("50 increments in flight on one key count 50", async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => box.store.increment("i:race")));
      assert.equal(await box.store.get("i:race"), 50);
      assert.deepEqual(
        [...results].sort((a, b) => a - b),
        Array.from({ length: 50 }, (_, i) => i + 1),
      );
    });
  });

  describe("getAndDelete()", () => {
    const box = useStore(make);

    it("returns the value and deletes it; a missing key is null", async () => {
      await box.store.set("g:a", { v: [1] });
      assert.deepEqual(await box.store.getAndDelete("g:a"), { v: [1] });
      assert.equal(await box.store.has("g:a"), false);
      assert.equal(await box.store.getAndDelete("g:a"), null);
      assert.equal(await box.store.getAndDelete("g:never"), null);
    });

    it("gives a value to exactly one of 20 callers in flight", async () => {
      await box.store.set("g:one", "token");
      const got = await Promise.all(Array.from({ length: 20 }, () => box.store.getAndDelete("g:one")));
      assert.deepEqual(
        got.filter((value) => value !== null),
        ["token"],
      );
    });

    it("returns bytes as bytes", async () => {
      await box.store.set("g:bytes", Buffer.from([1, 0, 255]));
      const value = await box.store.getAndDelete("g:bytes");
      assert.ok(value instanceof Uint8Array);
      assert.deepEqual([...value], [1, 0, 255]);
    });
  });

  describe("getMany(), setMany(), delMany()", () => {
    const box = useStore(make);

    it("getMany reads in order, null where missing, duplicates included", async () => {
      await box.store.set("m:a", 1);
      await box.store.set("m:b", { b: 2 });
      assert.deepEqual(await box.store.getMany(["m:b", "m:missing", "m:a", "m:b"]), [{ b: 2 }, null, 1, { b: 2 }]);
      assert.deepEqual(await box.store.getMany([]), []);
    });

    it("setMany takes pairs or an object, with an expiry; null deletes", async () => {
      await box.store.set("m:gone", 1);
      assert.deepEqual(
        await box.store.setMany([
          ["m:p1", "one"],
          ["m:p2", [2]],
          ["m:gone", null],
        ]),
        ["m:p1", "m:p2", "m:gone"],
      );
      assert.deepEqual(await box.store.getMany(["m:p1", "m:p2", "m:gone"]), ["one", [2], null]);
      const before = Date.now();
      await box.store.setMany({ "m:o1": 1, "m:o2": 2 }, { expires: 3600 });
      assert.deepEqual(await box.store.getMany(["m:o1", "m:o2"]), [1, 2]);
      if (caps.deadlines === false) return;
      const { expires } = await box.store.getWithMetadata("m:o2");
      assert.ok(Math.abs(expires - (before + 3600_000)) < slack(caps) + 1000, String(expires));
    });

    it("a bad value anywhere in setMany writes nothing", async () => {
      const cyclic = {};
      cyclic.self = cyclic;
      const values = caps.serializes ? [cyclic] : [];
      for (const bad of [...values, new Uint8Array(25 * 1024 * 1024 + 1)]) {
        await assert.rejects(
          box.store.setMany([
            ["m:bad1", 1],
            ["m:bad2", bad],
          ]),
          { name: "TypeError" },
        );
        assert.deepEqual(await box.store.getMany(["m:bad1", "m:bad2"]), [null, null]);
      }
      await assert.rejects(box.store.setMany("nope"), { code: "ERR_POLYKV_OPTIONS" });
      await assert.rejects(box.store.getMany("nope"), { code: "ERR_POLYKV_OPTIONS" });
      await assert.rejects(box.store.getMany([{}]), { code: "ERR_POLYKV_KEY" });
    });

    it("delMany deletes every key, missing ones too", async () => {
      await box.store.setMany([
        ["m:d1", 1],
        ["m:d2", 2],
        ["m:d3", 3],
      ]);
      assert.deepEqual(await box.store.delMany(["m:d1", "m:d3", "m:dx"]), ["m:d1", "m:d3", "m:dx"]);
      assert.deepEqual(await box.store.getMany(["m:d1", "m:d2", "m:d3"]), [null, 2, null]);
    });

    // A row may hold fewer keys (a browser keeps ~50-180 cookies per site).
    const many = Math.min(10_000, caps.maxKeys ?? 10_000);
    it(`${many} keys in one setMany, getMany and delMany`, async () => {
      const store = box.store.prefix("m:many:");
      const keys = Array.from({ length: many }, (_, i) => `k${i}`);
      await store.setMany(keys.map((key, i) => [key, i]));
      const values = await store.getMany(keys);
      assert.equal(values.length, many);
      assert.ok(values.every((value, i) => value === i));
      await store.delMany(keys);
      assert.deepEqual(await store.getMany(keys.slice(0, 100)), Array(Math.min(100, many)).fill(null));
    });
  });
}

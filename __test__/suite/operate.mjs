// docs/behaviour.md §32: reading and moving a record's expiry (expiresAt, ttl, touch).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { useStore, sleep } from "./helpers.mjs";

export default function operate(make, caps) {
  if (!caps.polykv) return;
  // Whole-second backends (Cloudflare) round deadlines to the second.
  const slack = caps.expiryMs ? 50 : 2000;
  // Cookies and RAW custom clients keep a deadline but cannot read it back.
  const readsDeadlines = caps.deadlines !== false;

  describe("expiresAt(), ttl(), touch()", () => {
    const box = useStore(make);

    it(
      "expiresAt is the deadline, null for never, undefined for a missing key",
      { skip: !readsDeadlines && "no deadlines to read" },
      async () => {
        const before = Date.now();
        await box.store.set("o:ttl", 1, { expires: 3600 });
        await box.store.set("o:never", 1);
        const at = await box.store.expiresAt("o:ttl");
        assert.ok(Math.abs(at - (before + 3600_000)) <= slack + 1000, String(at));
        assert.equal(await box.store.expiresAt("o:never"), null);
        assert.equal(await box.store.expiresAt("o:missing"), undefined);
      },
    );

    it(
      "ttl is the ms left, null for never, undefined for a missing key",
      { skip: !readsDeadlines && "no deadlines to read" },
      async () => {
        await box.store.set("o:ttl2", 1, { expires: 600 });
        const left = await box.store.ttl("o:ttl2");
        assert.ok(left > 600_000 - 5000 - slack && left <= 600_000 + slack, String(left));
        await box.store.set("o:never2", 1);
        assert.equal(await box.store.ttl("o:never2"), null);
        assert.equal(await box.store.ttl("o:missing"), undefined);
      },
    );

    it("touch moves the expiry and keeps the value and metadata", async () => {
      await box.store.set("o:touch", { v: 1 }, { expires: 120, metadata: { m: 1 } });
      const before = Date.now();
      assert.equal(await box.store.touch("o:touch", { expires: 7200 }), true);
      const read = await box.store.getWithMetadata("o:touch");
      assert.deepEqual(read.value, { v: 1 });
      assert.deepEqual(read.metadata, { m: 1 });
      if (readsDeadlines) assert.ok(Math.abs(read.expires - (before + 7200_000)) <= slack + 1000, String(read.expires));
      assert.equal(await box.store.touch("o:touch", { expires: null }), true);
      if (readsDeadlines) assert.equal(await box.store.expiresAt("o:touch"), null);
      assert.deepEqual(await box.store.get("o:touch"), { v: 1 });
    });

    it("touch of a missing key is false and writes nothing", async () => {
      assert.equal(await box.store.touch("o:absent", { expires: 60 }), false);
      assert.equal(await box.store.has("o:absent"), false);
    });

    it("touch with an expiry of 0 deletes", async () => {
      await box.store.set("o:zero", 1);
      assert.equal(await box.store.touch("o:zero", { expires: 0 }), true);
      assert.equal(await box.store.has("o:zero"), false);
    });

    if (caps.expiryMs) {
      it("a touched record outlives its old deadline", async () => {
        await box.store.set("o:save", "kept", { expires: 0.15 });
        assert.equal(await box.store.touch("o:save", { expires: 60 }), true);
        await sleep(250);
        assert.equal(await box.store.get("o:save"), "kept");
      });

      it("touch can shorten the expiry", async () => {
        await box.store.set("o:short", "x", { expires: 60 });
        assert.equal(await box.store.touch("o:short", { expires: 0.02 }), true);
        await sleep(60);
        assert.equal(await box.store.get("o:short"), null);
      });
    }
  });
}

// polykv/unstorage: the behaviours of unstorage's own driver tests, through the real
// createStorage({ driver }), and Astro's session driver entrypoint.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { createStorage } from "unstorage";
import polykvDriver, { UnstorageDriver, sessionDriver } from "polykv/unstorage";
import { rows, dir, sleep } from "./fixtures/integration-stores.mjs";

const sorted = (list) => [...list].sort();

for (const row of rows) {
  describe(`polykv/unstorage over ${row.name}`, () => {
    const make = () => {
      const driver = polykvDriver({ store: row.make(), prefix: "u:" });
      return Object.assign(createStorage({ driver }), { driver });
    };

    it("keys with ':', depth, getKeys(base) and clear(base)", async () => {
      const storage = make();
      await storage.setItem("s1:a", "test_data");
      await storage.setItem("s2:a", "test_data");
      await storage.setItem("s3:a?q=1", "test_data"); // unstorage drops the query
      await storage.setItem("one:two:three", "deep");
      assert.equal(await storage.hasItem("s1:a"), true);
      assert.equal(await storage.hasItem("s1/a"), true, "unstorage normalizes / to :");
      assert.equal(await storage.getItem("s1:a"), "test_data");
      assert.deepEqual(sorted(await storage.getKeys()), ["one:two:three", "s1:a", "s2:a", "s3:a"]);
      assert.deepEqual(await storage.getKeys("s1"), ["s1:a"]);
      assert.deepEqual(sorted(await storage.getKeys("", { maxDepth: 0 })), []);
      assert.deepEqual(sorted(await storage.getKeys("", { maxDepth: 1 })), ["s1:a", "s2:a", "s3:a"]);
      // storage.clear(base) reaches only drivers mounted under base, so the driver's own:
      await storage.driver.clear("s1:");
      assert.equal(await storage.hasItem("s1:a"), false);
      assert.equal(await storage.hasItem("s2:a"), true);
      await storage.removeItem("s2:a");
      assert.equal(await storage.getItem("s2:a"), null);
      await storage.clear();
      assert.deepEqual(await storage.getKeys(), []);
    });

    it("falsy values, objects, raw bytes, bulk reads and writes", async () => {
      const storage = make();
      await storage.setItem("zero", 0);
      await storage.setItem("false", false);
      await storage.setItem("empty", "");
      await storage.setItem("object", { a: [1, { b: null }] });
      assert.equal(await storage.getItem("zero"), 0);
      assert.equal(await storage.getItem("false"), false);
      assert.equal(await storage.getItem("empty"), "");
      assert.equal(await storage.hasItem("empty"), true);
      assert.deepEqual(await storage.getItem("object"), { a: [1, { b: null }] });
      const bytes = new Uint8Array([0, 1, 2, 255]);
      await storage.setItemRaw("bin", bytes);
      assert.deepEqual(new Uint8Array(await storage.getItemRaw("bin")), bytes);
      await storage.setItems([
        { key: "m1", value: "v1" },
        { key: "m2", value: { v: 2 } },
      ]);
      assert.deepEqual(await storage.getItems(["m1", "m2", "m3"]), [
        { key: "m1", value: "v1" },
        { key: "m2", value: { v: 2 } },
        { key: "m3", value: null },
      ]);
    });

    it("ttl: the driver's default and a call's own, in seconds; getMeta() says what is left", async () => {
      const storage = createStorage({ driver: polykvDriver({ store: row.make(), ttl: 0.2 }) });
      await storage.setItem("short", "x");
      await storage.setItem("long", "y", { ttl: 60 });
      const meta = await storage.getMeta("long");
      // Backends that do not report deadlines yet answer {} (see rowsReportingExpiry).
      if (row.name === "memory" || meta.ttl !== undefined)
        assert.ok(meta.ttl > 55 && meta.ttl <= 60, `ttl ${meta.ttl}`);
      await sleep(300);
      assert.equal(await storage.getItem("short"), null);
      assert.equal(await storage.getItem("long"), "y");
    });
  });
}

describe("polykv/unstorage options", () => {
  it("builds its store from serializable options, and dispose() closes only a store it made", async () => {
    const url = `sqlite://${join(dir, "unstorage.db")}`;
    const first = polykvDriver({ url, prefix: "app:" });
    assert.ok(first instanceof UnstorageDriver);
    const storage = createStorage({ driver: first });
    await storage.setItem("a", 1);
    await storage.dispose();
    const again = createStorage({ driver: polykvDriver({ url, prefix: "app:" }) });
    assert.equal(await again.getItem("a"), 1, "persisted in the SQLite file");
    assert.deepEqual(await again.getKeys(), ["a"]);
    await again.dispose();
  });

  it("refuses options of the wrong type with a clear error", () => {
    assert.throws(() => polykvDriver({ url: 5 }), { code: "ERR_POLYKV_OPTIONS", message: /url/ });
    assert.throws(() => polykvDriver({ ttl: "1h" }), { code: "ERR_POLYKV_OPTIONS", message: /ttl/ });
    assert.throws(() => polykvDriver(null), { code: "ERR_POLYKV_OPTIONS" });
  });

  it("Astro: sessionDriver() names this module's runtime entrypoint and forwards serializable config", async () => {
    const config = sessionDriver({ url: `sqlite://${join(dir, "astro.db")}`, ttl: 3600 });
    assert.equal(config.entrypoint, "polykv/unstorage");
    assert.deepEqual(JSON.parse(JSON.stringify(config)), config, "serializable");
    // What Astro's runtime does: import the entrypoint, call its default export with the config.
    const runtime = await import(config.entrypoint);
    const driver = runtime.default(config.config);
    await driver.setItem("session-id", JSON.stringify({ cart: [1] }));
    assert.equal(await driver.getItem("session-id"), '{"cart":[1]}');
    await driver.removeItem("session-id");
    assert.equal(await driver.getItem("session-id"), null);
    await driver.dispose();
    assert.throws(() => sessionDriver({ store: new Map() }), { code: "ERR_POLYKV_OPTIONS", message: /serializable/ });
  });
});

// polykv/axios-cache-interceptor under the real axios + axios-cache-interceptor, against
// a local HTTP server that answers with an ETag and honours If-None-Match.
import { describe, it, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import Axios from "axios";
import { setupCache } from "axios-cache-interceptor";
import polykvStorage, { AxiosCacheStorage } from "polykv/axios-cache-interceptor";
import { rows, sleep } from "./fixtures/integration-stores.mjs";

const hits = { full: 0, notModified: 0 };
let base;
const server = createServer((req, res) => {
  if (req.headers["if-none-match"] === '"v1"') {
    hits.notModified++;
    res.writeHead(304, { etag: '"v1"' }).end();
    return;
  }
  hits.full++;
  res.writeHead(200, { "content-type": "application/json", etag: '"v1"' }).end(JSON.stringify({ answer: 42 }));
});
before(async () => {
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

for (const row of rows) {
  describe(`polykv/axios-cache-interceptor over ${row.name}`, () => {
    it("serves the second request from the cache, then revalidates the stale entry with its ETag", async () => {
      const storage = polykvStorage(row.make()).prefix("http:");
      const axios = setupCache(Axios.create(), { storage, ttl: 300, interpretHeader: false, etag: true });
      hits.full = hits.notModified = 0;
      const first = await axios.get(`${base}/data`);
      assert.deepEqual([first.data, first.cached, hits.full], [{ answer: 42 }, false, 1]);
      const second = await axios.get(`${base}/data`);
      assert.deepEqual([second.data, second.cached, hits.full], [{ answer: 42 }, true, 1]);
      await sleep(400); // past the ttl: the entry is stale, kept for revalidation
      assert.ok((await storage.store.keys()).length === 1, "the stale entry is still stored");
      const third = await axios.get(`${base}/data`);
      assert.deepEqual([third.data, hits.full, hits.notModified], [{ answer: 42 }, 1, 1], "a 304 revalidated it");
    });

    it("a loading entry gets a bounded TTL; a cached one that cannot go stale expires with its ttl", async () => {
      const adapter = new AxiosCacheStorage(row.make(), { loadingTtl: 0.2 });
      await adapter.set("pending", { state: "loading", previous: "empty" });
      await adapter.set("fresh", {
        state: "cached",
        ttl: 200,
        createdAt: Date.now(),
        data: { data: 1, headers: {}, status: 200, statusText: "OK" },
      });
      assert.ok(await adapter.find("pending"));
      await sleep(300);
      assert.equal(await adapter.find("pending"), undefined, "a request that never finished left nothing");
      assert.equal(await adapter.find("fresh"), undefined);
      await adapter.set("kept", { state: "loading", previous: "empty" });
      await adapter.clear();
      assert.equal(await adapter.find("kept"), undefined);
    });
  });
}

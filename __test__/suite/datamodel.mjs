// docs/behaviour.md §26–29: metadata, typed and binary values, list(), hash and setWithCache.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { useStore, sleep } from "./helpers.mjs";
import polykv from "../../index.mjs";

const { hash } = polykv;
const MiB = 1024 * 1024;

// Random bytes that are never valid UTF-8 and hold NULs.
function awkwardBytes(size) {
  const bytes = randomBytes(size);
  bytes[0] = 0xff;
  if (size > 1) bytes[1] = 0x00;
  if (size > 2) bytes[size - 1] = 0xc3;
  return bytes;
}

const sameBytes = (actual, expected, label) => {
  assert.ok(actual instanceof Uint8Array, `${label}: a Uint8Array, got ${actual?.constructor?.name}`);
  assert.equal(actual.byteLength, expected.byteLength, label);
  assert.ok(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(expected), label);
};

async function readStream(stream) {
  assert.ok(stream instanceof ReadableStream);
  const chunks = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}

// How far a listed or read deadline may be from the one set: whole-second backends
// (Cloudflare: `expiration` in seconds) round it.
const slack = (caps) => (caps.expiryMs ? 50 : 2000);

export default function datamodel(make, caps) {
  if (!caps.polykv) return;

  describe("metadata", () => {
    const box = useStore(make);

    it("getWithMetadata reads the value, its metadata and its deadline", async () => {
      const before = Date.now();
      await box.store.set("m:a", { n: 1 }, { metadata: { tag: "x", n: [1, 2] }, expires: 3600 });
      const after = Date.now();
      const read = await box.store.getWithMetadata("m:a");
      assert.deepEqual(read.value, { n: 1 });
      assert.deepEqual(read.metadata, { tag: "x", n: [1, 2] });
      if (caps.deadlines === false) return assert.equal(read.expires, null, "this store cannot read deadlines back");
      assert.equal(typeof read.expires, "number");
      assert.ok(read.expires >= before + 3600_000 - slack(caps), `${read.expires} >= ${before + 3600_000}`);
      assert.ok(read.expires <= after + 3600_000 + slack(caps), `${read.expires} <= ${after + 3600_000}`);
      assert.deepEqual(await box.store.get("m:a"), { n: 1 }, "get() reads the value alone");
    });

    it("a record without metadata or expiry reads metadata and expires null", async () => {
      await box.store.set("m:plain", "v");
      assert.deepEqual(await box.store.getWithMetadata("m:plain"), { value: "v", metadata: null, expires: null });
    });

    it("a missing key reads all null", async () => {
      assert.deepEqual(await box.store.getWithMetadata("m:missing"), { value: null, metadata: null, expires: null });
    });

    it("any JSON value is metadata: a string, a number, false, an array", async () => {
      for (const [i, metadata] of ["s", 0, false, [1, "two"], { deep: { er: true } }].entries()) {
        await box.store.set(`m:any:${i}`, i, { metadata });
        assert.deepEqual((await box.store.getWithMetadata(`m:any:${i}`)).metadata, metadata, String(i));
      }
    });

    it("a set without metadata clears it", async () => {
      await box.store.set("m:clear", 1, { metadata: { a: 1 } });
      await box.store.set("m:clear", 2);
      assert.deepEqual(await box.store.getWithMetadata("m:clear"), { value: 2, metadata: null, expires: null });
    });

    it("metadata over 1024 bytes of JSON is a TypeError and writes nothing", async () => {
      await box.store.set("m:big", "old");
      const metadata = { text: "é".repeat(507) }; // 1025 bytes of JSON: 2 × 507 + 11
      assert.equal(Buffer.byteLength(JSON.stringify(metadata)), 1025);
      await assert.rejects(box.store.set("m:big", "new", { metadata }), {
        name: "TypeError",
        code: "ERR_POLYKV_VALUE",
      });
      assert.equal(await box.store.get("m:big"), "old");
      const fits = { text: "é".repeat(506) + "a" }; // 1024 bytes
      await box.store.set("m:big", "new", { metadata: fits });
      assert.deepEqual((await box.store.getWithMetadata("m:big")).metadata, fits);
    });

    it("metadata that is not JSON is a TypeError", async () => {
      await assert.rejects(box.store.set("m:fn", 1, { metadata: () => 1 }), { code: "ERR_POLYKV_VALUE" });
      assert.equal(await box.store.has("m:fn"), false);
    });

    it(
      "values with metadata list without it in entries(), values() and iteration",
      { skip: !caps.listing },
      async () => {
        const store = box.store.prefix("m:list:");
        await store.set("a", { v: 1 }, { metadata: "meta" });
        await store.set("b", [2]);
        assert.deepEqual(
          (await store.entries()).sort((x, y) => (x[0] < y[0] ? -1 : 1)),
          [
            ["a", { v: 1 }],
            ["b", [2]],
          ],
        );
        assert.deepEqual((await store.values()).map(JSON.stringify).sort(), ["[2]", '{"v":1}']);
        const seen = {};
        for await (const [key, value] of store) seen[key] = value;
        assert.deepEqual(seen, { a: { v: 1 }, b: [2] });
      },
    );

    it("an object of the caller's with a $polykv key round-trips as it is", async () => {
      const value = { $polykv: 1, value: "not a wrapper", bytes: "AAAA" };
      await box.store.set("m:tagged", value);
      assert.deepEqual(await box.store.get("m:tagged"), value);
      assert.deepEqual((await box.store.getWithMetadata("m:tagged")).value, value);
      if (caps.listing) assert.deepEqual(await box.store.prefix("m:tagged").values(), [value]);
    });

    if (caps.expiryMs) {
      it("an expired record with metadata reads all null", async () => {
        await box.store.set("m:short", 1, { metadata: 1, expires: 0.02 });
        await sleep(40);
        assert.deepEqual(await box.store.getWithMetadata("m:short"), { value: null, metadata: null, expires: null });
      });
    }
  });

  describe("binary values", () => {
    const box = useStore(make);
    const max = caps.maxValueBytes ?? 25 * MiB;

    for (const size of [1, 300 * 1024, 20 * MiB]) {
      it(
        `${size} random bytes round-trip as bytes`,
        { skip: size > max && `over this backend's ${max} bytes` },
        async () => {
          const bytes = awkwardBytes(size);
          await box.store.set(`b:${size}`, bytes);
          sameBytes(await box.store.get(`b:${size}`), bytes, "get");
          sameBytes((await box.store.getWithMetadata(`b:${size}`)).value, bytes, "getWithMetadata");
          await box.store.del(`b:${size}`);
        },
      );
    }

    it("a Uint8Array, an ArrayBuffer and a DataView are bytes; metadata rides along", async () => {
      const bytes = awkwardBytes(64);
      const copy = new Uint8Array(bytes);
      await box.store.set("b:u8", copy);
      sameBytes(await box.store.get("b:u8"), bytes, "Uint8Array");
      await box.store.set("b:ab", bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 64));
      sameBytes(await box.store.get("b:ab"), bytes, "ArrayBuffer");
      const padded = new Uint8Array(80);
      padded.set(bytes, 8);
      await box.store.set("b:dv", new DataView(padded.buffer, 8, 64), { metadata: { kind: "dv" } });
      const read = await box.store.getWithMetadata("b:dv");
      sameBytes(read.value, bytes, "DataView");
      assert.deepEqual(read.metadata, { kind: "dv" });
    });

    it("the empty byte string is a value", async () => {
      await box.store.set("b:empty", new Uint8Array(0));
      sameBytes(await box.store.get("b:empty"), Buffer.alloc(0), "empty");
      assert.equal(await box.store.has("b:empty"), true);
    });

    it("bytes over 25 MiB are a TypeError and write nothing", async () => {
      await assert.rejects(box.store.set("b:huge", new Uint8Array(25 * MiB + 1)), {
        name: "TypeError",
        code: "ERR_POLYKV_VALUE",
      });
      assert.equal(await box.store.has("b:huge"), false);
    });

    it("bytes list as bytes", { skip: !caps.listing }, async () => {
      const store = box.store.prefix("b:list:");
      const bytes = awkwardBytes(100);
      await store.set("x", bytes);
      const [[key, value]] = await store.entries();
      assert.equal(key, "x");
      sameBytes(value, bytes, "entries");
    });
  });

  describe("typed reads", () => {
    const box = useStore(make);

    it("a string reads as text, bytes, arrayBuffer and stream", async () => {
      await box.store.set("t:s", "héllo");
      assert.equal(await box.store.get("t:s", "text"), "héllo");
      assert.equal(await box.store.get("t:s", { type: "text" }), "héllo");
      assert.equal(await box.store.get("t:s", "json"), "héllo");
      sameBytes(await box.store.get("t:s", "bytes"), Buffer.from("héllo"), "bytes");
      const buffer = await box.store.get("t:s", "arrayBuffer");
      assert.ok(buffer instanceof ArrayBuffer);
      assert.ok(Buffer.from(buffer).equals(Buffer.from("héllo")));
      assert.ok((await readStream(await box.store.get("t:s", "stream"))).equals(Buffer.from("héllo")));
    });

    it("another JSON value reads as its JSON text", async () => {
      await box.store.set("t:o", { a: [1, "b"] });
      assert.equal(await box.store.get("t:o", "text"), '{"a":[1,"b"]}');
      sameBytes(await box.store.get("t:o", "bytes"), Buffer.from('{"a":[1,"b"]}'), "bytes");
      assert.deepEqual(await box.store.get("t:o", "json"), { a: [1, "b"] });
    });

    it("bytes read as UTF-8 text and as themselves", async () => {
      await box.store.set("t:b", Buffer.from("wörld"));
      assert.equal(await box.store.get("t:b", "text"), "wörld");
      sameBytes(await box.store.get("t:b", "bytes"), Buffer.from("wörld"), "bytes");
      assert.ok((await readStream(await box.store.get("t:b", { type: "stream" }))).equals(Buffer.from("wörld")));
      assert.equal((await box.store.getWithMetadata("t:b", "text")).value, "wörld");
    });

    it("a missing key is null whatever the type", async () => {
      for (const type of ["json", "text", "bytes", "arrayBuffer", "stream"]) {
        assert.equal(await box.store.get("t:missing", type), null, type);
      }
    });

    it("an unknown read type is a TypeError", async () => {
      await assert.rejects(box.store.get("t:s", "blob"), { name: "TypeError", code: "ERR_POLYKV_OPTIONS" });
      await assert.rejects(box.store.get("t:s", { type: 5 }), { code: "ERR_POLYKV_OPTIONS" });
    });
  });

  describe("list()", { skip: !caps.listing && "this store cannot list" }, () => {
    const box = useStore(make);
    // The model: names → { metadata?, expires? }; some expire at once, some never.
    const model = new Map();
    const listAll = async (store, options) => {
      const names = [];
      let cursor;
      let pages = 0;
      for (;;) {
        const page = await store.list({ ...options, cursor });
        pages++;
        assert.equal(typeof page.list_complete, "boolean");
        if (page.list_complete) assert.equal(page.cursor, undefined, "no cursor on the last page");
        else assert.equal(typeof page.cursor, "string", "a cursor on every other page");
        if (options?.limit) assert.ok(page.keys.length <= options.limit);
        names.push(...page.keys);
        if (page.list_complete) return { names, pages };
        cursor = page.cursor;
      }
    };

    it("lists names relative to the store with expiration and metadata as Workers KV does", async () => {
      const store = box.store.prefix("l1:");
      const before = Date.now();
      await store.set("plain", 1);
      await store.set("meta", 2, { metadata: { m: true } });
      await store.set("ttl", 3, { expires: 3600 });
      await store.set("both", 4, { expires: 7200, metadata: "x" });
      const { keys, list_complete, cursor } = await store.list();
      assert.equal(list_complete, true);
      assert.equal(cursor, undefined);
      const byName = Object.fromEntries(keys.map((key) => [key.name, key]));
      assert.deepEqual(Object.keys(byName).sort(), ["both", "meta", "plain", "ttl"]);
      assert.deepEqual(byName.plain, { name: "plain" });
      assert.deepEqual(byName.meta, { name: "meta", metadata: { m: true } });
      if (caps.deadlines === false) return assert.deepEqual(byName.ttl, { name: "ttl" });
      assert.deepEqual(Object.keys(byName.ttl), ["name", "expiration"]);
      assert.ok(Number.isInteger(byName.ttl.expiration));
      assert.ok(Math.abs(byName.ttl.expiration - (before + 3600_000) / 1000) <= 3, String(byName.ttl.expiration));
      assert.equal(byName.both.metadata, "x");
      assert.ok(Math.abs(byName.both.expiration - (before + 7200_000) / 1000) <= 3);
    });

    it("pages through a model of prefixes, metadata and expiries at small limits", async () => {
      const store = box.store.prefix("l2:");
      const writes = [];
      for (let i = 0; i < 40; i++) {
        const name = `${["a", "b", "ab", "b:c"][i % 4]}/${String(i).padStart(2, "0")}`;
        const options = {};
        if (i % 3 === 0) options.metadata = { i };
        if (i % 5 === 0) options.expires = 3600;
        model.set(name, options);
        writes.push(store.set(name, i, options));
      }
      if (caps.expiryMs) {
        writes.push(store.set("a/expired", 1, { expires: 0.01 }), store.set("b/expired", 1, { expires: 0.01 }));
      }
      await Promise.all(writes);
      await sleep(30);
      const expected = [...model.keys()].sort();
      for (const limit of [1, 2, 3, 7, 1000]) {
        const { names, pages } = await listAll(store, { limit });
        const listed = names.map((key) => key.name);
        if (caps.ordered) assert.deepEqual(listed, expected, `limit ${limit}: in order`);
        else assert.deepEqual([...listed].sort(), expected, `limit ${limit}`);
        assert.ok(pages >= Math.ceil(expected.length / limit), `limit ${limit}: ${pages} pages`);
        for (const key of names) {
          const options = model.get(key.name);
          assert.deepEqual(key.metadata, options.metadata, key.name);
          assert.equal("expiration" in key, caps.deadlines !== false && options.expires !== undefined, key.name);
        }
      }
      const { names } = await listAll(store, { prefix: "b", limit: 4 });
      assert.deepEqual(
        names.map((key) => key.name).sort(),
        expected.filter((name) => name.startsWith("b")),
      );
    });

    it("a key present for the whole listing is returned exactly once under concurrent writes and deletes", async () => {
      const store = box.store.prefix("l3:");
      const stable = Array.from({ length: 30 }, (_, i) => `s${String(i).padStart(2, "0")}`);
      const doomed = Array.from({ length: 15 }, (_, i) => `s${String(i).padStart(2, "0")}x`);
      await Promise.all([...stable, ...doomed].map((name) => store.set(name, name)));
      const seen = [];
      let cursor;
      let round = 0;
      for (;;) {
        const page = await store.list({ limit: 4, cursor });
        seen.push(...page.keys.map((key) => key.name));
        if (page.list_complete) break;
        cursor = page.cursor;
        // Between pages: delete some keys, add others on both sides of the cursor.
        round++;
        await store.del(doomed[round % doomed.length]);
        await store.set(`s00-new-${round}`, round);
        await store.set(`s99-new-${round}`, round);
      }
      assert.equal(new Set(seen).size, seen.length, `no duplicates: ${seen}`);
      for (const name of stable) assert.ok(seen.includes(name), `${name} listed`);
    });

    it("checks its options and its cursor", async () => {
      const store = box.store.prefix("l4:");
      await store.set("a", 1);
      await store.set("b", 2);
      const first = await store.list({ limit: 1 });
      assert.equal(first.list_complete, false);
      await assert.rejects(store.list({ limit: 0 }), { name: "TypeError", code: "ERR_POLYKV_OPTIONS" });
      await assert.rejects(store.list({ limit: 1.5 }), { code: "ERR_POLYKV_OPTIONS" });
      await assert.rejects(store.list({ prefix: 5 }), { code: "ERR_POLYKV_OPTIONS" });
      await assert.rejects(store.list({ cursor: "nonsense!" }), { code: "ERR_POLYKV_OPTIONS" });
      await assert.rejects(store.list({ prefix: "a", cursor: first.cursor }), { code: "ERR_POLYKV_OPTIONS" });
      const rest = await store.list({ limit: 1000, cursor: first.cursor });
      assert.equal(rest.keys.length, 1);
      assert.notEqual(rest.keys[0].name, first.keys[0].name);
      assert.equal((await store.list({ limit: 5000 })).keys.length, 2, "a limit over 1000 is 1000");
    });

    it("an empty store lists nothing, complete", async () => {
      assert.deepEqual(await box.store.prefix("l5:").list(), { keys: [], list_complete: true });
    });
  });

  describe("hash() and setWithCache()", () => {
    const box = useStore(make);

    it("hash() is BLAKE3-256 in lowercase hex, for text and bytes", () => {
      assert.equal(hash(""), "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
      const vector = Uint8Array.from({ length: 1024 }, (_, i) => i % 251);
      assert.equal(hash(vector), "42214739f095a406f3fc83deb889744ac00df831c10daa55189b5d121c855af7");
      assert.equal(hash(vector.buffer), hash(Buffer.from(vector)));
      assert.equal(hash("é"), hash(Buffer.from("é")));
      assert.throws(() => hash(5), { name: "TypeError", code: "ERR_POLYKV_VALUE" });
    });

    it("setWithCache names the key by content and writes only new content", async () => {
      const data = { page: "home", n: 1 };
      const key = await box.store.setWithCache("c/[hash].json", data, { expires: 3600 });
      assert.equal(key, `c/${hash(JSON.stringify(data))}.json`);
      assert.deepEqual(await box.store.get(key), data);
      const { expires } = await box.store.getWithMetadata(key);
      assert.equal(await box.store.setWithCache("c/[hash].json", data), key, "same content, same key");
      assert.equal((await box.store.getWithMetadata(key)).expires, expires, "and no second write");
      const other = await box.store.setWithCache("c/[hash].json", "other");
      assert.equal(other, `c/${hash("other")}.json`);
      assert.equal(await box.store.setWithCache("fixed", "a"), "fixed");
      assert.equal(await box.store.setWithCache("fixed", "b"), "fixed");
      assert.equal(await box.store.get("fixed"), "b", "a key without [hash] is rewritten when its content differs");
    });
  });
}

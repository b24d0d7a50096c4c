// The facade's own promises (docs/behaviour.md §1–6, §9, §13, §19–20) beyond what the
// per-backend conformance suite checks.
import { after, describe, it, mock } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import kv from "../index.mjs";
import drivers from "../lib/drivers/index.js";
import { AtomicEnvelopeClient, AtomicRawClient, PlainObjectClient } from "./fixtures/custom-clients.mjs";

const require = createRequire(import.meta.url);
const native = require("../native.js");

describe("construction", () => {
  it("kv() and kv(new Map()) are MEMORY stores; the Map holds the data", async () => {
    assert.equal(kv().type, "MEMORY");
    const map = new Map();
    const store = kv(map);
    assert.equal(store.type, "MEMORY");
    await store.set("k", "v");
    assert.deepEqual(map.get("k"), { expires: null, value: "v" });
  });

  it("a wrong first argument says what was passed and what would work", () => {
    const says = (input, ...parts) => {
      let error;
      assert.throws(
        () => kv(input),
        (thrown) => (error = thrown) instanceof Error,
      );
      assert.equal(error.code, "ERR_POLYKV_CLIENT");
      assert.match(error.message, /^Adapter should have \.get\(\) and \.set\(\): /);
      for (const part of parts) assert.ok(error.message.includes(part), `${error.message}\n  lacks: ${part}`);
      return error.message;
    };
    // A URL scheme polykv does not open: named, with the ones it does; a password is hidden.
    const mongo = says(
      "mongodb://app:s3cret@db.local:27017/app",
      "mongodb://app:***@db.local:27017/app",
      "no MongoDB backend",
      "custom client",
      "redis://",
      "sqlite:",
    );
    assert.ok(!mongo.includes("s3cret"), mongo);
    says(
      "ftp://files.local/x",
      '"ftp:" is not a URL scheme polykv opens',
      "redis:// and rediss://",
      "file:///path/name.json",
      "node-redis",
    );
    // Not a client at all.
    says(42, "got the number 42", "nothing (a memory store)", "a URL string");
    says(true, "got a boolean");
    // A path: the URL that would open it.
    says("./data.db", 'kv("sqlite:./data.db")');
    says("data.json", 'kv("file://./data.json")');
    says("./cache/", 'kv("file://./cache/")');
    says(
      "/var/lib/app/store",
      'kv("sqlite:/var/lib/app/store")',
      'kv("file:///var/lib/app/store.json")',
      'kv("file:///var/lib/app/store/")',
    );
    says("localStorage", "kv(localStorage)");
    // Options passed as the client: they belong in the second argument.
    says({ strict: true }, "looks like kv() options", "second argument", "kv(undefined, { strict: true })");
    says({ prefix: "app:", expires: "1h" }, 'kv(client, { prefix: "app:", expires: "1h" })');
    // An object that is half a client says which method is missing.
    says({ get() {} }, "with no set()");
  });

  it("bad clients throw polystore's messages at kv() time", () => {
    // polystore's text first, word for word; then what was passed and what would work.
    const polystore = /^Adapter should have \.get\(\) and \.set\(\): kv\(\) /;
    assert.throws(() => kv({}), { message: polystore, code: "ERR_POLYKV_CLIENT" });
    assert.throws(() => kv("potato"), { message: polystore });
    assert.throws(() => kv(42), { message: polystore });
    const getSet = { get() {}, set() {} };
    for (const method of ["has", "keys", "values"]) {
      assert.throws(() => kv({ ...getSet, [method]() {} }), {
        message: `adapter.${method}() requires RAW or HAS_EXPIRATION`,
      });
      assert.doesNotThrow(() => kv({ ...getSet, RAW: true, [method]() {} }));
    }
    assert.throws(() => kv({ ...getSet, RAW: true, HAS_EXPIRATION: false }), {
      message: "RAW and HAS_EXPIRATION must match",
    });
    assert.throws(() => kv("file:///tmp/no-extension"), /extension|slash/);
    assert.throws(() => kv("file:data.json"), /file:\/\/\/abs\/path\/data.json/);
  });

  it("bad options are TypeErrors", () => {
    assert.throws(() => kv(undefined, { prefix: 5 }), TypeError);
    assert.throws(() => kv().prefix(5), TypeError);
    assert.throws(() => kv(undefined, "x"), TypeError);
  });

  it("a custom client's TYPE is the store's type, UNKNOWN when it has none", () => {
    assert.equal(kv({ TYPE: "MINE", get() {}, set() {} }).type, "MINE");
    assert.equal(kv({ get() {}, set() {} }).type, "UNKNOWN");
  });

  it("a class is instantiated with no arguments", async () => {
    let args;
    class Client {
      constructor(...received) {
        args = received;
      }
      get() {
        return null;
      }
      set() {}
    }
    kv(Client);
    assert.deepEqual(args, []);
  });

  it("every client kind of docs/behaviour.md §3–4 is recognised by shape or URL", () => {
    // The file name of the driver module whose factory takes `input` first.
    const file = new Map(drivers.map((factory) => [factory, null]));
    for (const name of [
      "memory",
      "redis-native",
      "redis",
      "sqlite",
      "postgres",
      "etcd",
      "level",
      "cloudflare",
      "forage",
      "cookie",
      "api",
      "file",
      "folder",
      "storage",
    ]) {
      file.set(require(`../lib/drivers/${name}.js`), name);
    }
    const typeOf = (input) => file.get(drivers.find((factory) => factory.test(input))) ?? null;
    const fn = () => {};
    assert.equal(typeOf(undefined), "memory");
    assert.equal(typeOf(new Map()), "memory");
    assert.equal(typeOf({ pSubscribe: fn, sSubscribe: fn }), "redis");
    assert.equal(typeOf("redis://127.0.0.1:6379"), "redis-native");
    assert.equal(typeOf({ prepare: fn, exec: fn }), "sqlite");
    assert.equal(typeOf("sqlite::memory:"), "sqlite");
    assert.equal(typeOf({ query: fn }), "postgres");
    assert.equal(typeOf({ query: fn, filename: "x" }), null);
    assert.equal(typeOf({ leaseClient: {}, watchClient: {}, watchManager: {} }), "etcd");
    assert.equal(typeOf({ attachResource: fn, detachResource: fn }), "level");
    assert.equal(typeOf({ getWithMetadata: fn, get: fn, list: fn, delete: fn }), "cloudflare");
    assert.equal(typeOf({ defineDriver: fn, dropInstance: fn }), "forage");
    assert.equal(typeOf("cookie"), "cookie");
    assert.equal(typeOf("https://example.com/kv/"), "api");
    assert.equal(typeOf("file:///tmp/data.json"), "file");
    assert.equal(typeOf(new URL("file:///tmp/data.json")), "file");
    assert.equal(typeOf("file:///tmp/data/"), "folder");
    assert.equal(typeOf("file:///tmp/.cache/"), "folder");
    assert.equal(typeOf("potato"), null);
    assert.equal(typeOf({ get: fn, set: fn }), null);
  });
});

describe("connect", () => {
  class Connecting {
    connects = 0;
    data = new Map();
    connect() {
      this.connects += 1;
      return new Promise((resolve) => setTimeout(resolve, 10)).then(() => {
        this.ready = true;
      });
    }
    get(key) {
      if (!this.ready) throw new Error("used before connect() finished");
      return this.data.get(key) ?? null;
    }
    set(key, envelope) {
      if (!this.ready) throw new Error("used before connect() finished");
      this.data.set(key, envelope);
    }
    *iterate(prefix) {
      for (const entry of this.data) if (entry[0].startsWith(prefix)) yield entry;
    }
  }

  it("is called once, from inside kv(), shared by substores and re-wraps, and awaited first", async () => {
    const client = new Connecting();
    const store = kv(client);
    assert.equal(client.connects, 1);
    const sub = store.prefix("a:");
    const again = kv(client, { prefix: "b:" });
    const wrapped = kv(store);
    await Promise.all([store.set("x", 1), sub.set("x", 2), again.set("x", 3), wrapped.get("x")]);
    assert.equal(client.connects, 1);
    assert.deepEqual((await store.keys()).sort(), ["a:x", "b:x", "x"]);
  });

  it("a frozen client works and is never mutated", async () => {
    const data = new Map();
    const client = Object.freeze({
      get: (key) => data.get(key) ?? null,
      set: (key, envelope) => void data.set(key, envelope),
      *iterate(prefix) {
        for (const entry of data) if (entry[0].startsWith(prefix)) yield entry;
      },
      connect: async () => {},
    });
    const store = kv(client);
    await store.set("k", "v");
    assert.equal(await store.get("k"), "v");
    assert.deepEqual(await store.prefix("k").keys(), [""]);
  });

  it("a client `promise` property is awaited before the first operation", async () => {
    let ready = false;
    const client = {
      promise: new Promise((resolve) => setTimeout(resolve, 10)).then(() => {
        ready = true;
      }),
      get: () => (ready ? null : assert.fail("get before promise resolved")),
      set: () => (ready ? undefined : assert.fail("set before promise resolved")),
    };
    const store = kv(client);
    await store.set("k", "v");
    assert.equal(await store.get("k"), null);
  });

  it("a failing connect rejects the calls, never an unhandled rejection", async () => {
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const store = kv({
        connect: () => Promise.reject(new Error("no server")),
        get() {},
        set() {},
      });
      const throwing = kv({
        connect() {
          throw new Error("sync failure");
        },
        get() {},
        set() {},
      });
      await new Promise((resolve) => setTimeout(resolve, 20));
      await assert.rejects(() => store.get("k"), { message: "no server" });
      await assert.rejects(() => store.set("k", 1), { message: "no server" });
      await assert.rejects(() => throwing.get("k"), { message: "sync failure" });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("a promise that rejects rejects the calls, never an unhandled rejection", async () => {
    const warn = mock.method(console, "warn", () => {});
    const unhandled = [];
    const onUnhandled = (reason) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      const store = kv(Promise.reject(new Error("could not build the client")));
      await new Promise((resolve) => setTimeout(resolve, 20));
      await assert.rejects(() => store.get("k"), { message: "could not build the client" });
      assert.equal(store.type, "PROMISE");
      assert.deepEqual(unhandled, []);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      warn.mock.restore();
    }
  });

  it("a promise of a client class or a Map resolves to its type", async () => {
    const warn = mock.method(console, "warn", () => {});
    try {
      const map = kv(Promise.resolve(new Map()));
      const sub = map.prefix("p:");
      assert.equal(sub.type, "PROMISE");
      await sub.set("k", 1);
      assert.equal(map.type, "MEMORY");
      assert.equal(sub.type, "MEMORY");
      assert.equal(await map.get("p:k"), 1);
    } finally {
      warn.mock.restore();
    }
  });
});

describe("client protocol", () => {
  it("wrapper mode gets full keys and { expires: absolute ms | null, value } envelopes", async () => {
    const calls = [];
    const store = kv({
      get: (key) => (calls.push(["get", key]), null),
      set: (key, data) => void calls.push(["set", key, data]),
    }).prefix("p:");
    const before = Date.now();
    await store.set("a", 1, { expires: 10 });
    await store.set("b", 2);
    await store.del("a");
    await store.get("b");
    const [first, second, third, fourth] = calls;
    assert.equal(first[1], "p:a");
    assert.ok(first[2].expires >= before + 10_000 && first[2].expires <= Date.now() + 10_000);
    assert.deepEqual(second, ["set", "p:b", { expires: null, value: 2 }]);
    assert.deepEqual(third, ["set", "p:a", null]);
    assert.deepEqual(fourth, ["get", "p:b"]);
  });

  it("wrapper mode: a record without a value field reads as missing", async () => {
    const store = kv({ get: () => ({ expires: null }), set() {} });
    assert.equal(await store.get("k"), null);
    assert.equal(await store.has("k"), false);
  });

  it("native mode gets set(key, value, seconds | null) and del as set(key, null, 0) without del()", async () => {
    const calls = [];
    const store = kv({
      HAS_EXPIRATION: true,
      get: () => "raw",
      set: (...args) => void calls.push(args),
    });
    await store.set("a", { x: 1 }, { expires: "2m" });
    await store.set("b", 1);
    await store.del("a");
    assert.deepEqual(calls, [
      ["a", { x: 1 }, 120],
      ["b", 1, null],
      ["a", null, 0],
    ]);
    assert.equal(await store.get("a"), "raw");
  });

  it("a client's own add wins and its return is passed on", async () => {
    const wrapperCalls = [];
    const wrapper = kv({
      get() {},
      set() {},
      add: (prefix, data) => (wrapperCalls.push([prefix, data]), `${prefix}custom-id`),
    }).prefix("w:");
    assert.equal(await wrapper.add("v"), "w:custom-id");
    assert.deepEqual(wrapperCalls, [["w:", { expires: null, value: "v" }]]);
    const nativeCalls = [];
    const nativeStore = kv({
      RAW: true,
      get() {},
      set() {},
      add: (prefix, value, expires) => (nativeCalls.push([prefix, value, expires]), "id-1"),
    });
    assert.equal(await nativeStore.add("v", { expires: 5 }), "id-1");
    assert.deepEqual(nativeCalls, [["", "v", 5]]);
  });

  it("clear() without iterate works through the client's clear(prefix)", async () => {
    const cleared = [];
    const store = kv({ get() {}, set() {}, clear: (prefix) => void cleared.push(prefix) });
    await store.prefix("x:").clear();
    assert.deepEqual(cleared, ["x:"]);
    await assert.rejects(() => store.keys(), { message: "UNKNOWN does not support .iterate()" });
  });

  it("a client receives only JSON: bytes, metadata and values with a $polykv key as tagged records", async () => {
    const client = new PlainObjectClient();
    const store = kv(client);
    await store.set("b", Buffer.from([0, 255]));
    await store.set("m", { n: 1 }, { metadata: { tag: 1 }, expires: 60 });
    await store.set("t", { $polykv: "mine" });
    await store.set("plain", { n: 2 });
    assert.deepEqual(client.data.b, { expires: null, value: { $polykv: 1, bytes: "AP8=" } });
    assert.deepEqual(client.data.m.value, { $polykv: 1, value: { n: 1 }, metadata: { tag: 1 } });
    assert.deepEqual(client.data.t.value, { $polykv: 1, value: { $polykv: "mine" } });
    assert.deepEqual(client.data.plain, { expires: null, value: { n: 2 } });
    assert.deepEqual([...(await store.get("b"))], [0, 255]);
    const read = await store.getWithMetadata("m");
    assert.deepEqual(read.value, { n: 1 });
    assert.deepEqual(read.metadata, { tag: 1 });
    assert.equal(read.expires, client.data.m.expires, "wrapper mode reads the envelope's deadline");
    assert.deepEqual(await store.get("t"), { $polykv: "mine" });
    const raw = [];
    const native = kv({ RAW: true, get: () => null, set: (...args) => void raw.push(args) });
    await native.set("m", 5, { metadata: "x", expires: 10 });
    assert.deepEqual(raw, [["m", { $polykv: 1, value: 5, metadata: "x" }, 10]]);
  });

  for (const [mode, Client] of [
    ["wrapper", AtomicEnvelopeClient],
    ["native", AtomicRawClient],
  ]) {
    it(`a ${mode}-mode client's own cas, increment, getAndDelete and bulk methods are used`, async () => {
      const client = new Client();
      const store = kv(client, { prefix: "p:" });
      assert.equal(store.capabilities.atomic, true);
      assert.equal(await store.cas("c", null, 1), true);
      assert.equal(await store.cas("c", 2, 3), false);
      assert.equal(await store.increment("n", 2), 2);
      assert.equal(await store.increment("n", 2), 4);
      assert.deepEqual(await store.setMany({ a: 1, b: Buffer.from([9]) }), ["a", "b"]);
      const [a, b, missing] = await store.getMany(["a", "b", "x"]);
      assert.deepEqual([a, [...b], missing], [1, [9], null]);
      assert.equal(await store.getAndDelete("a"), 1);
      assert.deepEqual(await store.delMany(["b"]), ["b"]);
      assert.deepEqual(client.calls, { cas: 1, increment: 2, setMany: 1, getMany: 1, getAndDelete: 1, delMany: 1 });
      await store.set("s", "text");
      await assert.rejects(store.increment("s"), { name: "TypeError", code: "ERR_POLYKV_VALUE" });
    });
  }

  it("a client without cas cannot cas; increment and getAndDelete still work, in this process", async () => {
    const store = kv(new PlainObjectClient());
    assert.equal(store.capabilities.atomic, false);
    await assert.rejects(store.cas("k", null, 1), { code: "ERR_POLYKV_UNSUPPORTED" });
    const counts = await Promise.all(Array.from({ length: 10 }, () => store.increment("k")));
    assert.deepEqual(
      counts.sort((x, y) => x - y),
      Array.from({ length: 10 }, (_, i) => i + 1),
    );
    assert.equal(await store.getAndDelete("k"), 10);
  });

  it("prune removes expired records of a memory store, within the prefix only", async () => {
    const map = new Map();
    const store = kv(map);
    await store.set("a:old", 1, { expires: 0.005 });
    await store.set("b:old", 1, { expires: 0.005 });
    await store.set("a:new", 1);
    await new Promise((resolve) => setTimeout(resolve, 15));
    await store.prefix("a:").prune();
    assert.deepEqual([...map.keys()].sort(), ["a:new", "b:old"]);
    await store.prune();
    assert.deepEqual([...map.keys()], ["a:new"]);
  });

  it("prune removes expired envelopes of a wrapper-mode client that has iterate", async () => {
    const data = new Map();
    const store = kv({
      get: (key) => data.get(key) ?? null,
      set: (key, envelope) => void (envelope === null ? data.delete(key) : data.set(key, envelope)),
      *iterate(prefix) {
        for (const entry of data) if (entry[0].startsWith(prefix)) yield entry;
      },
    });
    await store.set("old", 1, { expires: 0.005 });
    await store.set("new", 2);
    await new Promise((resolve) => setTimeout(resolve, 15));
    await store.prune();
    assert.deepEqual([...data.keys()], ["new"]);
  });
});

describe("add() keys", () => {
  it("are 24 characters, unique, and use all 62 characters about evenly", async () => {
    const store = kv();
    const counts = new Map();
    const keys = new Set();
    for (let i = 0; i < 3000; i += 1) {
      const key = await store.add(i);
      keys.add(key);
      for (const char of key) counts.set(char, (counts.get(char) ?? 0) + 1);
    }
    assert.equal(keys.size, 3000);
    assert.equal(counts.size, 62);
    // 72 000 draws / 62 ≈ 1161 each; polystore's masked bytes would leave out half the alphabet.
    for (const [char, count] of counts) assert.ok(count > 950 && count < 1400, `${char}: ${count}`);
  });
});

describe("native addon", () => {
  // __panicForTests only exists in builds with the `test-hooks` Cargo feature
  // (npm run build:test, which CI uses); a release build (npm run build) has no such entry point.
  it("a Rust panic becomes a JS error and the process lives on", (t) => {
    if (typeof native.__panicForTests !== "function") {
      const reason =
        "native.__panicForTests is missing: the addon was built without --features test-hooks (npm run build:test)";
      if (/^(true|1)$/i.test(process.env.CI ?? "")) assert.fail(`${reason}, and CI must run this test`);
      console.log(`skipping the panic test: ${reason}`);
      t.skip(reason);
      return;
    }
    assert.throws(() => native.__panicForTests("deliberate"), /deliberate/);
    assert.match(native.generateKey(), /^[A-Za-z0-9]{24}$/);
  });

  it("the package loads as ESM and CommonJS, by name", () => {
    const cwd = new URL("..", import.meta.url);
    const esm = execFileSync(
      process.execPath,
      ["--input-type=module", "-e", 'import kv from "polykv"; console.log(kv().type)'],
      { cwd, encoding: "utf8" },
    );
    const cjs = execFileSync(
      process.execPath,
      ["-e", 'const kv = require("polykv"); console.log(kv().type, typeof kv.default)'],
      { cwd, encoding: "utf8" },
    );
    assert.equal(esm.trim(), "MEMORY");
    assert.equal(cjs.trim(), "MEMORY function");
  });
});

describe("errors", () => {
  const fails = (code, Class) => (error) => {
    assert.equal(error.code, code, error.message);
    assert.equal(error.constructor, Class, `${code} is a ${Class.name}`);
    assert.match(error.message, /^\[polykv\] |^Adapter should|does not support/);
    return true;
  };

  it("bad input is a TypeError with a stable code, and the store is unchanged", async () => {
    const store = kv();
    await assert.rejects(store.set({}, 1), fails("ERR_POLYKV_KEY", TypeError));
    await assert.rejects(store.get(null), fails("ERR_POLYKV_KEY", TypeError));
    await assert.rejects(kv("sqlite::memory:").set("k", { n: 1n }), fails("ERR_POLYKV_VALUE", TypeError));
    await assert.rejects(store.set("k", 1, { expires: {} }), fails("ERR_POLYKV_EXPIRES", TypeError));
    await assert.rejects(
      kv(undefined, { strict: true }).set("k", 1, { expires: "5potato" }),
      fails("ERR_POLYKV_EXPIRES", TypeError),
    );
    assert.throws(() => kv(undefined, { prefix: 5 }), fails("ERR_POLYKV_OPTIONS", TypeError));
    assert.throws(() => store.prefix(5), fails("ERR_POLYKV_OPTIONS", TypeError));
    assert.deepEqual(await store.entries(), []);
  });

  it("a client polykv cannot use is ERR_POLYKV_CLIENT; a listing it cannot do is ERR_POLYKV_UNSUPPORTED", async () => {
    assert.throws(() => kv({}), fails("ERR_POLYKV_CLIENT", Error));
    assert.throws(() => kv("file:///tmp/no-extension"), fails("ERR_POLYKV_CLIENT", Error));
    const store = kv({ get: () => null, set: () => {} });
    await assert.rejects(store.keys(), fails("ERR_POLYKV_UNSUPPORTED", Error));
  });

  it("a stored value that is not JSON is ERR_POLYKV_CORRUPT naming the backend and the key", async () => {
    const db = new (require("better-sqlite3"))(":memory:");
    const store = kv(db);
    db.prepare("INSERT INTO kv (id, value, expires_at) VALUES (?, ?, NULL)").run("bad", "{not json");
    await assert.rejects(
      store.get("bad"),
      (error) => fails("ERR_POLYKV_CORRUPT", Error)(error) && /\[SQLITE\].*"bad"/.test(error.message),
    );
    db.close();
  });
});

// Rust errors reach JS as lib/errors.js shapes them: a stable `code`, TypeError for
// bad input (KEY, VALUE, EXPIRES), Error otherwise, the message unchanged.
describe("native errors", () => {
  const dir = mkdtempSync(join(tmpdir(), "polykv-errors-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const { NativeStore } = native;

  /** The error `run` throws or rejects with. */
  async function failure(run) {
    try {
      await run();
    } catch (error) {
      return error;
    }
    assert.fail("expected an error");
  }

  function assertShape(error, code, type, message) {
    assert.equal(error.code, code, error.message);
    assert.ok(error instanceof Error, "an Error");
    assert.equal(error instanceof TypeError, type === TypeError, `${error.constructor.name}: ${error.message}`);
    assert.match(error.message, message);
  }

  it("a closed store: ERR_POLYKV_CLOSED, an Error", async () => {
    for (const open of [() => NativeStore.sqlite(":memory:"), () => NativeStore.folder(join(dir, "closed"))]) {
      const store = open();
      store.close();
      store.close(); // twice is fine
      for (const call of [
        () => store.get("k"),
        () => store.set("k", "1", null),
        () => store.scan("", null, 10, true),
      ]) {
        assertShape(
          await failure(call),
          "ERR_POLYKV_CLOSED",
          Error,
          /^\[polykv\] \[(SQLITE|FOLDER)\] the store is closed$/,
        );
      }
    }
  });

  it("a JSON file that is not JSON: ERR_POLYKV_CORRUPT, natively and through kv()", async () => {
    const file = join(dir, "corrupt.json");
    writeFileSync(file, '{"a":{"expires":null,"val');
    const message = /^\[polykv\] \[FILE\] cannot read ".*corrupt\.json": the file is not valid JSON/;
    assertShape(await failure(() => NativeStore.file(file)), "ERR_POLYKV_CORRUPT", Error, message);
    assertShape(await failure(() => kv(pathToFileURL(file)).get("a")), "ERR_POLYKV_CORRUPT", Error, message);
    writeFileSync(join(dir, "k.json"), '{"expires":nu');
    const folder = NativeStore.folder(dir);
    assertShape(
      await failure(() => folder.get("k")),
      "ERR_POLYKV_CORRUPT",
      Error,
      /^\[polykv\] \[FOLDER\] cannot read/,
    );
  });

  it("a path that cannot be opened: ERR_POLYKV_CLIENT, an Error", async () => {
    const plain = join(dir, "plain.txt");
    writeFileSync(plain, "not a folder");
    const inside = join(plain, "inside", "x");
    assertShape(
      await failure(() => NativeStore.sqlite(`${inside}.db`)),
      "ERR_POLYKV_CLIENT",
      Error,
      /^\[polykv\] \[SQLITE\] cannot open "/,
    );
    assertShape(
      await failure(() => NativeStore.file(`${inside}.json`)),
      "ERR_POLYKV_CLIENT",
      Error,
      /^\[polykv\] \[FILE\] cannot /,
    );
    assertShape(await failure(() => NativeStore.folder(plain)), "ERR_POLYKV_CLIENT", Error, /^\[polykv\] \[FOLDER\] /);
  });

  it("strict expires that cannot be read: ERR_POLYKV_EXPIRES, a TypeError", async () => {
    const error = await failure(() => native.parseExpires("5potato", true));
    assertShape(error, "ERR_POLYKV_EXPIRES", TypeError, /^\[polykv\] invalid expires "5potato": use seconds/);
    assert.equal(native.parseExpires("5potato", false), null);
    const store = NativeStore.sqlite(":memory:");
    assertShape(
      await failure(() => store.set("k", "1", NaN)),
      "ERR_POLYKV_EXPIRES",
      TypeError,
      /^\[polykv\] \[SQLITE\] the expiry deadline/,
    );
  });

  it("bad keys and values: ERR_POLYKV_KEY and ERR_POLYKV_VALUE, TypeErrors, messages kept whole", async () => {
    const folder = NativeStore.folder(join(dir, "records"));
    const key = "a\0b".repeat(100);
    const error = await failure(() => folder.set(key, "1", null));
    assertShape(error, "ERR_POLYKV_KEY", TypeError, /too long for a file name/);
    assert.ok(error.message.includes(key), "the key, NUL bytes and all, is in the message");
    assertShape(
      await failure(() => folder.set("k", "{bad", null)),
      "ERR_POLYKV_VALUE",
      TypeError,
      /"k" is not JSON text/,
    );
  });
});

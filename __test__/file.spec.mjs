// JSON file store specifics (the shared suite covers the API): docs/behaviour.md §21 format,
// interop with polystore's file store both ways, creation, writes by other
// processes, temp-and-rename writes, batching, corrupt files, URL forms.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import polystore from "polystore";
import kv from "../index.mjs";

const root = mkdtempSync(join(tmpdir(), "polykv-file-"));
after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const fresh = (name = "data.json") => join(root, `t${count++}`, name);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));

describe("FILE: format and interop", () => {
  it("is created as {} with its parent folders when missing", async () => {
    const file = fresh("a/b/c.json");
    const store = kv(`file://${file}`);
    assert.equal(store.type, "FILE");
    assert.equal(readFileSync(file, "utf8"), "{}");
    assert.equal(await store.get("x"), null);
  });

  it("writes one object { fullKey: { expires, value } } (docs/behaviour.md §21)", async () => {
    const file = fresh();
    const store = kv(`file://${file}`).prefix("app:");
    const before = Date.now();
    await store.set("user", { name: "Ada" });
    await store.set("session", [1, 2], { expires: 60 });
    const data = readJson(file);
    assert.deepEqual(Object.keys(data).sort(), ["app:session", "app:user"]);
    assert.deepEqual(data["app:user"], { expires: null, value: { name: "Ada" } });
    assert.deepEqual(data["app:session"].value, [1, 2]);
    assert.ok(data["app:session"].expires >= before + 60_000 && data["app:session"].expires <= Date.now() + 60_000);
  });

  it("polykv reads what polystore's file store wrote, and polystore reads polykv's", async () => {
    const file = fresh();
    const old = polystore(`file://${file}`);
    await old.set("a", { from: "polystore" });
    await old.set("gone", 1, { expires: 0.05 });
    const store = kv(`file://${file}`);
    assert.deepEqual(await store.get("a"), { from: "polystore" });
    assert.equal(await store.get("gone"), 1);
    await store.set("b", { from: "polykv" });
    await store.set("soon", "x", { expires: 0.05 });
    assert.deepEqual(await old.get("b"), { from: "polykv" });
    assert.equal(await old.get("soon"), "x");
    assert.deepEqual((await old.keys()).sort(), ["a", "b", "gone", "soon"]);
    await sleep(80);
    assert.equal(await store.get("gone"), null);
    assert.equal(await old.get("soon"), null);
    assert.deepEqual((await store.keys()).sort(), ["a", "b"]);
  });

  it("sees writes made by someone else (another process, an editor) at once", async () => {
    const file = fresh();
    const store = kv(`file://${file}`);
    await store.set("a", 1);
    assert.equal(await store.get("a"), 1);
    writeFileSync(file, JSON.stringify({ a: { expires: null, value: 2 }, b: { expires: null, value: 3 } }));
    assert.equal(await store.get("a"), 2);
    assert.deepEqual(await store.keys(), ["a", "b"]);
    await store.set("c", 4); // merged with the outside change, not over it
    assert.deepEqual(readJson(file).b, { expires: null, value: 3 });
  });

  it("keeps entries that are not its records, and reads them as missing", async () => {
    const file = fresh();
    const store = kv(`file://${file}`);
    writeFileSync(file, JSON.stringify({ note: "hand-written", k: { expires: null, value: 1 } }));
    assert.equal(await store.get("note"), null);
    assert.deepEqual(await store.keys(), ["k"]);
    await store.set("z", 2);
    assert.equal(readJson(file).note, "hand-written");
  });
});

describe("FILE: safe writes", () => {
  it("every write replaces the file by a rename (a new inode) and leaves no temp file behind", async () => {
    const file = fresh();
    const store = kv(`file://${file}`);
    await store.set("a", 1);
    const first = statSync(file).ino;
    await store.set("b", 2);
    assert.notEqual(statSync(file).ino, first);
    assert.deepEqual(readdirSync(join(file, "..")), ["data.json"]);
  });

  it("writes made in the same tick are committed together, each in order", async () => {
    const file = fresh();
    const store = kv(`file://${file}`);
    await store.set("x", "old");
    const inode = statSync(file).ino;
    const keys = await Promise.all(
      Array.from({ length: 200 }, (_, i) => store.set(`k${i}`, i)).concat([store.set("x", "new"), store.del("k0")]),
    );
    assert.equal(keys.length, 202);
    const data = readJson(file);
    assert.equal(Object.keys(data).length, 200); // k1..k199 + x
    assert.equal(data.x.value, "new");
    assert.equal(data.k0, undefined);
    assert.notEqual(statSync(file).ino, inode);
    // A read right after an unawaited write sees it.
    store.set("late", 1);
    assert.equal(await store.get("late"), 1);
  });
});

describe("FILE: bad files and URLs", () => {
  for (const [label, text, why] of [
    ["truncated JSON", '{"a":{"expires":null,"value":{"deep":', /not valid JSON/],
    ["JSON that is not an object", "[1,2,3]", /not an object/],
  ]) {
    it(`${label}: a clear error naming the path, and the file is left as it was`, () => {
      const file = fresh();
      rmSync(join(file, ".."), { recursive: true, force: true });
      kv(`file://${file}`); // creates the folder
      writeFileSync(file, text);
      assert.throws(
        () => kv(`file://${file}`),
        (error) =>
          error.message.startsWith("[polykv] [FILE] cannot read") &&
          error.message.includes(file) &&
          why.test(error.message),
      );
      assert.equal(readFileSync(file, "utf8"), text);
    });
  }

  it("a URL object works, spaces and all", async () => {
    const file = fresh("my data.json");
    const store = kv(pathToFileURL(file));
    assert.equal(store.type, "FILE");
    await store.set("k", 1);
    assert.ok(existsSync(file));
    assert.deepEqual(readJson(file).k, { expires: null, value: 1 });
  });

  it("a file: URL without an extension or a trailing slash is refused with advice", () => {
    for (const input of [`file://${root}/data`, new URL(`file://${root}/.cache`)]) {
      assert.throws(() => kv(input), /add an extension .* or end it with "\/"/);
    }
  });
});

describe("FILE: symlinks, modes and crashed writers (docs/behaviour.md §35)", () => {
  it("a symlink planted at the temp file name is never written through", async () => {
    const file = fresh();
    const dir = join(file, "..");
    mkdirSync(dir, { recursive: true });
    const victim = join(dir, "..", `victim${count++}`);
    const store = kv(`file://${file}`);
    // The fixed name older versions used, planted after the store opened.
    symlinkSync(victim, join(dir, ".data.json.polykv-tmp"));
    await store.set("k", 1);
    await store.set("k", 2);
    assert.equal(existsSync(victim), false, "nothing was written outside the folder");
    assert.equal(readJson(file).k.value, 2);
  });

  it("the file keeps its mode across rewrites; a new file follows the umask", async () => {
    const file = fresh();
    const store = kv(`file://${file}`);
    const probe = join(file, "..", "probe");
    writeFileSync(probe, "");
    assert.equal(statSync(file).mode & 0o777, statSync(probe).mode & 0o777);
    chmodSync(file, 0o600);
    await store.set("secret", "s3cret");
    await store.set("more", 1);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it("a symlinked file is refused unless the URL says ?symlinks=follow, which writes to its target", async () => {
    const target = fresh("real.json");
    mkdirSync(join(target, ".."), { recursive: true });
    writeFileSync(target, "{}");
    const link = join(target, "..", "link.json");
    symlinkSync(target, link);
    assert.throws(() => kv(`file://${link}`), {
      code: "ERR_POLYKV_CLIENT",
      message: /symbolic link.*\?symlinks=follow/,
    });
    const store = kv(`file://${link}?symlinks=follow`);
    assert.equal(store.type, "FILE");
    await store.set("k", 1);
    assert.ok(lstatSync(link).isSymbolicLink(), "the link stays a link");
    assert.equal(readJson(target).k.value, 1);
  });

  it("temp files a crashed writer left behind are removed when the store opens", async () => {
    const file = fresh();
    const dir = join(file, "..");
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, "{}");
    for (const name of [".data.json.polykv-tmp", ".data.json.polykv-Ab3dEf_hIj-k.tmp"]) {
      writeFileSync(join(dir, name), "x".repeat(100_000));
    }
    writeFileSync(join(dir, ".other.json.polykv-tmp"), "another store's");
    const store = kv(`file://${file}`);
    assert.deepEqual(readdirSync(dir).sort(), [".other.json.polykv-tmp", "data.json"]);
    assert.deepEqual(await store.keys(), []);
  });
});

describe("FILE: binary values and metadata", () => {
  it("the file holds text only: bytes are base64 in a tagged record, plain values stay polystore's", async () => {
    const file = fresh();
    const store = kv(`file://${file}`);
    await store.set("bin", Buffer.from([0, 255]));
    await store.set("meta", "v", { metadata: { m: 1 }, expires: 60 });
    await store.set("plain", [1]);
    const data = readJson(file);
    assert.deepEqual(data.bin, { expires: null, value: { $polykv: 1, bytes: "AP8=" } });
    assert.deepEqual(data.meta.value, { $polykv: 1, value: "v", metadata: { m: 1 } });
    assert.deepEqual(data.plain, { expires: null, value: [1] });
    const bytes = await store.get("bin");
    assert.ok(bytes instanceof Uint8Array);
    assert.deepEqual([...bytes], [0, 255]);
    const { keys } = await store.list();
    assert.deepEqual(
      keys.map((key) => [key.name, key.metadata]),
      [
        ["bin", undefined],
        ["meta", { m: 1 }],
        ["plain", undefined],
      ],
    );
    assert.ok(keys[1].expiration > Date.now() / 1000 + 50);
    assert.deepEqual(await polystore(`file://${file}`).get("plain"), [1]);
  });
});

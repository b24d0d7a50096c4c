// Folder store specifics (the shared suite covers the API): docs/behaviour.md §22 file names
// and contents, interop with polystore's folder store both ways, keys that try to
// leave the folder, foreign files, corrupt records.
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
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import polystore from "polystore";
import kv from "../index.mjs";

const root = mkdtempSync(join(tmpdir(), "polykv-folder-"));
after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;
const fresh = () => join(root, `t${count++}`, "store") + "/";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fileName = (key) => encodeURIComponent(key).replace(/\*/g, "%2A") + ".json";

/** Every path under `dir`, relative, sorted. */
function tree(dir, base = "") {
  return readdirSync(join(dir, base), { withFileTypes: true })
    .flatMap((entry) => {
      const rel = base ? `${base}/${entry.name}` : entry.name;
      return entry.isDirectory() ? [rel + "/", ...tree(dir, rel)] : [rel];
    })
    .sort();
}

describe("FOLDER: format and interop", () => {
  it("one file per key named encodeURIComponent(key) with * as %2A, plus .json (docs/behaviour.md §22)", async () => {
    const dir = fresh();
    const store = kv(`file://${dir}`);
    assert.equal(store.type, "FOLDER");
    const keys = ["plain", "user:1", "a b", "star*key", "ünï/cödé", "(it's)!~-_."];
    for (const key of keys) await store.set(key, { key });
    await store.set("ttl", 1, { expires: 60 });
    assert.deepEqual(readdirSync(dir).sort(), [...keys, "ttl"].map(fileName).sort());
    for (const key of keys) {
      assert.deepEqual(JSON.parse(readFileSync(join(dir, fileName(key)), "utf8")), { expires: null, value: { key } });
    }
    const ttl = JSON.parse(readFileSync(join(dir, "ttl.json"), "utf8"));
    assert.ok(ttl.expires > Date.now() + 59_000);
    assert.deepEqual((await store.keys()).sort(), [...keys, "ttl"].sort());
  });

  it("polykv reads what polystore's folder store wrote, and polystore reads polykv's", async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const old = polystore(`file://${dir}`);
    await old.set("cache:a", { from: "polystore" });
    await old.set("cache:gone", 1, { expires: 0.05 });
    const store = kv(`file://${dir}`);
    assert.deepEqual(await store.get("cache:a"), { from: "polystore" });
    await store.set("cache:b", [1, "two"]);
    await store.set("cache:soon", "x", { expires: 0.05 });
    assert.deepEqual(await old.get("cache:b"), [1, "two"]);
    assert.equal(await old.get("cache:soon"), "x");
    assert.deepEqual((await old.prefix("cache:").keys()).sort(), ["a", "b", "gone", "soon"]);
    await sleep(80);
    assert.deepEqual((await store.prefix("cache:").keys()).sort(), ["a", "b"]);
    assert.equal(await old.get("cache:soon"), null);
  });
});

describe("FOLDER: keys cannot leave the folder", () => {
  const attempts = [
    "../escape",
    "../../etc/passwd",
    "/etc/passwd",
    "a/b/c",
    "..",
    ".",
    "",
    "nul\0byte",
    "%2e%2e%2fescape",
    "%2E%2E/%2e%2e/x",
    "..\\..\\windows",
    "./../x",
  ];

  it("every hostile key is stored inside the folder, under its own name, and reads back", async () => {
    const base = join(root, `t${count++}`);
    const dir = join(base, "inner", "store") + "/";
    const store = kv(`file://${dir}`);
    for (const [i, key] of attempts.entries()) {
      assert.equal(await store.set(key, { i }), key);
      assert.deepEqual(await store.get(key), { i }, JSON.stringify(key));
    }
    // Nothing outside the store folder, nothing in a subfolder of it.
    assert.deepEqual(tree(base), [
      "inner/",
      "inner/store/",
      ...attempts.map((key) => `inner/store/${fileName(key)}`).sort(),
    ]);
    assert.deepEqual((await store.keys()).sort(), [...attempts].sort());
    for (const key of attempts) await store.del(key);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("a key too long for a file name is a clear error, not a crash", async () => {
    const store = kv(`file://${fresh()}`);
    await assert.rejects(
      store.set("k".repeat(300), 1),
      /\[polykv\] \[FOLDER\] the key "k+" is too long for a file name/,
    );
  });
});

describe("FOLDER: foreign and corrupt files", () => {
  it("files that are not ours are ignored by reads, iteration and clear()", async () => {
    const dir = fresh();
    const store = kv(`file://${dir}`);
    await store.set("mine", 1);
    writeFileSync(join(dir, "notes.txt"), "hello");
    writeFileSync(join(dir, "README"), "hello");
    writeFileSync(join(dir, "a b.json"), JSON.stringify({ expires: null, value: "not our encoding" }));
    writeFileSync(join(dir, "config.json"), JSON.stringify({ port: 80 })); // JSON but not a record
    mkdirSync(join(dir, "sub.json"));
    assert.deepEqual(await store.keys(), ["mine"]);
    assert.equal(await store.get("config"), null);
    await store.clear();
    assert.deepEqual(readdirSync(dir).sort(), ["README", "a b.json", "config.json", "notes.txt", "sub.json"]);
  });

  it("a corrupt record is an error naming its file on get, and skipped by listings", async () => {
    const dir = fresh();
    const store = kv(`file://${dir}`);
    await store.set("ok", 1);
    writeFileSync(join(dir, "bad.json"), '{"expires":null,"value":{"tru');
    await assert.rejects(
      store.get("bad"),
      (e) => e.message.startsWith("[polykv] [FOLDER] cannot read") && e.message.includes(join(dir, "bad.json")),
    );
    assert.deepEqual(await store.keys(), ["ok"]);
  });

  it("a path that is a file, not a folder, is a clear error", () => {
    const file = join(root, `t${count++}`);
    writeFileSync(file, "x");
    assert.throws(() => kv(`file://${file}/`), /\[polykv\] \[FOLDER\] cannot create the folder/);
    assert.ok(existsSync(file));
  });
});

describe("FOLDER: symlinks, modes and crashed writers (docs/behaviour.md §35)", () => {
  const record = (value) => JSON.stringify({ expires: null, value });

  it("a symlink planted at a temp file name is never written through", async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const victims = join(dir, "..", "victims");
    mkdirSync(victims);
    // The names older versions used, `.polykv-<pid>-<n>.tmp`, planted ahead of the writes.
    for (let n = 1; n <= 20; n++) symlinkSync(join(victims, `v${n}`), join(dir, `.polykv-${process.pid}-${n}.tmp`));
    const store = kv(`file://${dir}`);
    for (let n = 0; n < 10; n++) await store.set("k", { n, pad: "x".repeat(5000) }); // replacements
    assert.equal((await store.get("k")).n, 9);
    assert.deepEqual(readdirSync(victims), [], "nothing was written outside the folder");
  });

  it("a symlink at a record's name is not followed: not read, not listed, and set() replaces the link", async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const outside = join(dir, "..", "secret.json");
    writeFileSync(outside, record("secret"));
    symlinkSync(outside, join(dir, "k.json"));
    const store = kv(`file://${dir}`);
    assert.equal(await store.get("k"), null);
    assert.equal(await store.has("k"), false);
    assert.deepEqual(await store.keys(), []);
    await store.clear();
    assert.ok(lstatSync(join(dir, "k.json")).isSymbolicLink(), "clear() leaves what is not ours");
    await store.set("k", "mine");
    assert.equal(readFileSync(outside, "utf8"), record("secret"), "the link's target is untouched");
    assert.ok(lstatSync(join(dir, "k.json")).isFile());
    assert.equal(await store.get("k"), "mine");
  });

  it("?symlinks=follow opts in: records are read and replaced through their links", async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const outside = join(dir, "..", "shared.json");
    writeFileSync(outside, record("shared"));
    symlinkSync(outside, join(dir, "k.json"));
    const store = kv(`file://${dir}?symlinks=follow`);
    assert.equal(store.type, "FOLDER");
    assert.equal(await store.get("k"), "shared");
    assert.deepEqual(await store.keys(), ["k"]);
    await store.set("k", "updated");
    assert.ok(lstatSync(join(dir, "k.json")).isSymbolicLink(), "the link stays a link");
    assert.equal(JSON.parse(readFileSync(outside, "utf8")).value, "updated");
  });

  it("a record keeps its mode when it is replaced; a new record follows the umask", async () => {
    const dir = fresh();
    const store = kv(`file://${dir}`);
    await store.set("small", 1);
    await store.set("big", "x".repeat(5000));
    writeFileSync(join(dir, "probe"), "");
    const umasked = statSync(join(dir, "probe")).mode & 0o777;
    assert.equal(statSync(join(dir, "small.json")).mode & 0o777, umasked);
    for (const key of ["small", "big"]) {
      const file = join(dir, `${key}.json`);
      chmodSync(file, 0o600);
      await store.set(key, "y".repeat(key === "big" ? 6000 : 1));
      assert.equal(statSync(file).mode & 0o777, 0o600, key);
    }
  });

  it("temp files a crashed writer left behind are removed when the folder opens; fresh ones stay", async () => {
    const dir = fresh();
    mkdirSync(dir, { recursive: true });
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const name of [".polykv-4242-1.tmp", ".polykv-Zx9_k2LmQ0aB.tmp"]) {
      writeFileSync(join(dir, name), "x".repeat(3_000_000));
      utimesSync(join(dir, name), hourAgo, hourAgo);
    }
    writeFileSync(join(dir, ".polykv-fresh0000000.tmp"), "being written");
    writeFileSync(join(dir, "other.tmp"), "not ours");
    utimesSync(join(dir, "other.tmp"), hourAgo, hourAgo);
    const store = kv(`file://${dir}`);
    assert.deepEqual(readdirSync(dir).sort(), [".polykv-fresh0000000.tmp", "other.tmp"]);
    assert.deepEqual(await store.keys(), []);
  });
});

describe("FOLDER: binary values", () => {
  it("a bytes record holds the raw bytes after a one-line header; JSON records stay polystore's", async () => {
    const dir = fresh();
    const store = kv(`file://${dir}`);
    const bytes = Buffer.from([0xff, 0x00, 0x0a, 0xc3]);
    await store.set("bin", bytes);
    await store.set("soon", bytes, { expires: 60 });
    await store.set("json", { a: 1 });
    const raw = readFileSync(join(dir, "bin.json"));
    assert.ok(raw.equals(Buffer.concat([Buffer.from("\0polykv:bytes:null\n"), bytes])), raw.toString("hex"));
    const header = readFileSync(join(dir, "soon.json")).subarray(0, 32).toString("latin1");
    const deadline = Number(/^\0polykv:bytes:(\d+)\n/.exec(header)[1]);
    assert.ok(Math.abs(deadline - (Date.now() + 60_000)) < 5_000, header);
    assert.deepEqual(JSON.parse(readFileSync(join(dir, "json.json"), "utf8")), { expires: null, value: { a: 1 } });
    const back = await store.get("bin");
    assert.ok(back instanceof Uint8Array && Buffer.from(back).equals(bytes));
    assert.ok(Math.abs((await store.getWithMetadata("soon")).expires - deadline) <= 1);
    assert.deepEqual(await polystore(`file://${dir}`).get("json"), { a: 1 }, "polystore reads the JSON record");
  });

  it("bytes with metadata are a tagged JSON record, base64 inside", async () => {
    const dir = fresh();
    const store = kv(`file://${dir}`);
    await store.set("tagged", Buffer.from("hi"), { metadata: { m: 1 } });
    const record = JSON.parse(readFileSync(join(dir, "tagged.json"), "utf8"));
    assert.deepEqual(record, { expires: null, value: { $polykv: 1, bytes: "aGk=", metadata: { m: 1 } } });
    assert.deepEqual((await store.list()).keys, [{ name: "tagged", metadata: { m: 1 } }]);
  });
});

describe("FOLDER: asset folders (kv(url, { asset: true }))", () => {
  const assets = () => {
    const dir = fresh();
    return { dir, store: kv(`file://${dir}`, { asset: true }) };
  };

  it("writes each value raw to the file its key names, sub-folders included, and reads it back", async () => {
    const { dir, store } = assets();
    assert.equal(store.type, "FOLDER");
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff]);
    assert.equal(await store.set("img/logo.png", png), "img/logo.png");
    assert.equal(await store.set("css/site.css", "body { color: red }"), "css/site.css");
    assert.equal(await store.set("data.json", { a: [1, 2] }), "data.json");
    assert.ok(readFileSync(join(dir, "img/logo.png")).equals(png));
    assert.equal(readFileSync(join(dir, "css/site.css"), "utf8"), "body { color: red }");
    assert.equal(readFileSync(join(dir, "data.json"), "utf8"), '{"a":[1,2]}');
    const back = await store.get("img/logo.png");
    assert.ok(back instanceof Uint8Array && Buffer.from(back).equals(png), "binary content reads as bytes");
    assert.equal(await store.get("css/site.css"), "body { color: red }", "text reads as text");
    assert.equal(await store.get("data.json"), '{"a":[1,2]}');
    assert.equal(
      await store.get("css/site.css", "bytes").then((b) => Buffer.from(b).toString()),
      "body { color: red }",
    );
    assert.deepEqual(await store.get("data.json", "text"), '{"a":[1,2]}');
    assert.deepEqual(await store.keys(), ["css/site.css", "data.json", "img/logo.png"]);
    assert.deepEqual(
      (await store.list({ prefix: "img/" })).keys.map((key) => key.name),
      ["img/logo.png"],
    );
    await store.del("img/logo.png");
    assert.equal(existsSync(join(dir, "img")), false, "an emptied sub-folder goes too");
    await store.clear();
    assert.deepEqual(readdirSync(dir), []);
  });

  it("setWithCache names the file by its content hash", async () => {
    const { dir, store } = assets();
    const css = "h1 { margin: 0 }";
    const key = await store.setWithCache("[hash].css", css);
    assert.equal(key, `${kv.hash(css)}.css`);
    assert.equal(readFileSync(join(dir, key), "utf8"), css);
  });

  it("refuses keys that would leave the folder or are not plain paths, writing nothing", async () => {
    const { dir, store } = assets();
    const parent = join(dir, "..");
    const before = readdirSync(parent).sort();
    for (const key of ["../escape.txt", "a/../../x", "/etc/passwd", "nul\0byte", "a//b", "a/", ".", "..", "a\\b", ""]) {
      await assert.rejects(store.set(key, "x"), { name: "TypeError", code: "ERR_POLYKV_KEY" }, JSON.stringify(key));
    }
    assert.deepEqual(readdirSync(parent).sort(), before);
    assert.deepEqual(readdirSync(dir), []);
  });

  it("an expiry or metadata is refused: a file holds neither", async () => {
    const { store } = assets();
    await assert.rejects(store.set("a.txt", "x", { expires: 60 }), { code: "ERR_POLYKV_UNSUPPORTED" });
    await assert.rejects(store.set("a.txt", "x", { metadata: 1 }), { code: "ERR_POLYKV_UNSUPPORTED" });
    assert.equal(await store.has("a.txt"), false);
  });

  it("the asset option needs a folder URL", () => {
    assert.throws(() => kv("sqlite::memory:", { asset: true }), { code: "ERR_POLYKV_OPTIONS" });
    assert.throws(() => kv(`file://${join(root, "x.json")}`, { asset: true }), { code: "ERR_POLYKV_OPTIONS" });
  });
});

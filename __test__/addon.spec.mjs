// polykv without its native addon: a copy of the package with no .node file, run in a
// child process, as on a platform polykv publishes no binary for. Everything that does
// not run in the addon works; each backend that does is refused at kv() with one
// message saying what is wrong and what to do.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const copy = mkdtempSync(join(tmpdir(), "polykv-no-addon-"));
after(() => rmSync(copy, { recursive: true, force: true }));
for (const entry of ["index.js", "index.mjs", "index.d.ts", "native.js", "package.json", "lib"]) {
  cpSync(join(root, entry), join(copy, "polykv", entry), { recursive: true });
}
assert.deepEqual(
  readdirSync(join(copy, "polykv")).filter((name) => name.endsWith(".node")),
  [],
  "the copy has no binary",
);

// Runs `body` (an ES module) in a child beside the copy, with no way to find a binary.
function run(body, { nativeJs = true } = {}) {
  if (!nativeJs) rmSync(join(copy, "polykv", "native.js"), { force: true });
  const file = join(copy, `check-${Math.random().toString(36).slice(2)}.mjs`);
  writeFileSync(file, `import kv from "./polykv/index.mjs";\n${body}`);
  const env = { ...process.env };
  delete env.NAPI_RS_NATIVE_LIBRARY_PATH;
  return JSON.parse(execFileSync(process.execPath, [file], { cwd: copy, env, encoding: "utf8" }));
}

describe("without the native addon", () => {
  it("memory, Map, custom clients, add(), expires strings and web storage work", () => {
    const result = run(`
      class FakeStorage {
        #items = new Map();
        get length() { return this.#items.size; }
        key(i) { return [...this.#items.keys()][i] ?? null; }
        getItem(k) { return this.#items.get(k) ?? null; }
        setItem(k, v) { this.#items.set(k, String(v)); }
        removeItem(k) { this.#items.delete(k); }
        clear() { this.#items.clear(); }
      }
      globalThis.Storage = FakeStorage;
      const out = {};
      const memory = kv(undefined, { expires: "1h", strict: true });
      await memory.set("a", { n: 1 }, { expires: "2h 30m" });
      const id = await memory.add("added");
      out.memory = [memory.type, await memory.get("a"), await memory.get(id), id.length];
      const map = new Map();
      await kv(map, { prefix: "p:" }).set("k", 1, { expires: "10 minutes" });
      out.map = [...map.keys()];
      const records = new Map();
      const custom = kv({ TYPE: "MINE", get: (k) => records.get(k), set: (k, v) => void records.set(k, v), iterate: function* () { yield* records; } });
      await custom.set("c", [1, 2]);
      out.custom = [custom.type, await custom.get("c"), await custom.keys()];
      const storage = kv(new FakeStorage());
      await storage.set("s", "v", { expires: 60 });
      out.storage = [storage.type, await storage.get("s")];
      out.parse = [kv.parseExpires("1.5h"), kv.parseExpires("potato"), kv.parseExpires("1h 30m", true)];
      try { kv.parseExpires("5potato", true); } catch (error) { out.strictError = [error.code, error.message]; }
      console.log(JSON.stringify(out));
    `);
    assert.deepEqual(result.memory, ["MEMORY", { n: 1 }, "added", 24]);
    assert.deepEqual(result.map, ["p:k"]);
    assert.deepEqual(result.custom, ["MINE", [1, 2], ["c"]]);
    assert.deepEqual(result.storage, ["STORAGE", "v"]);
    assert.deepEqual(result.parse, [5400, null, 5400]);
    assert.equal(result.strictError[0], "ERR_POLYKV_EXPIRES");
    assert.match(result.strictError[1], /^\[polykv\] invalid expires "5potato": use seconds/);
  });

  it("a backend that runs in the addon is refused with what to install and how to build it", () => {
    const result = run(`
      const out = {};
      for (const url of ["sqlite::memory:", "file:///tmp/polykv-no-addon/data.json", "file:///tmp/polykv-no-addon/dir/", "redis://localhost:1"]) {
        try { kv(url); out[url] = "made"; } catch (error) { out[url] = { code: error.code, message: error.message, cause: Boolean(error.cause) }; }
      }
      console.log(JSON.stringify(out));
    `);
    const types = { "sqlite::memory:": "SQLITE", "redis://localhost:1": "REDIS" };
    for (const [url, error] of Object.entries(result)) {
      assert.equal(typeof error, "object", `${url} was made without the addon`);
      assert.equal(error.code, "ERR_POLYKV_ADDON", url);
      assert.equal(error.cause, true, url);
      const type = types[url] ?? (url.endsWith("/") ? "FOLDER" : "FILE");
      assert.ok(
        error.message.startsWith(`[polykv] [${type}] this backend runs in polykv's native addon, and none loads here`),
        error.message,
      );
      if (process.platform === "linux" && process.arch === "x64") {
        // The platform, the C library, the package to install, and the source build.
        assert.match(error.message, /\(linux x64 (glibc \d+\.\d+|musl libc)/, error.message);
        assert.ok(error.message.includes("npm install polykv-linux-x64-"), error.message);
      }
      assert.ok(
        error.message.includes("cargo build --release --manifest-path node_modules/polykv/Cargo.toml"),
        error.message,
      );
      assert.ok(error.message.includes("Memory, Map, localStorage"), error.message);
    }
  });

  const notLinux = process.platform === "linux" ? false : "the message names a Linux platform";
  it("a platform polykv publishes no binary for is told so", { skip: notLinux }, () => {
    const result = run(`
      Object.defineProperty(process, "arch", { value: "riscv64" });
      try { kv("sqlite::memory:"); console.log("null"); } catch (error) { console.log(JSON.stringify(error.message)); }
    `);
    assert.match(result, /\(linux riscv64 /);
    assert.match(result, /polykv publishes no binary for linux-riscv64-gnu \(only for linux-x64-gnu, darwin-x64, /);
    assert.ok(
      result.includes(
        "copy node_modules/polykv/target/release/libpolykv.so to node_modules/polykv/polykv.linux-riscv64-gnu.node",
      ),
      result,
    );
  });

  it("a checkout that was never built says to run npm run build", () => {
    const result = run(
      `try { kv("sqlite::memory:"); console.log("null"); } catch (error) { console.log(JSON.stringify([error.code, error.message])); }`,
      { nativeJs: false },
    );
    assert.equal(result[0], "ERR_POLYKV_ADDON");
    assert.match(result[1], /native\.js is missing: in a checkout of polykv, run `npm run build`/);
  });
});

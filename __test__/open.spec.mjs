// kv.open(label): the store the deployment names for a label (docs/behaviour.md §33).
// Each case runs in a child process with its own environment, as a deployment would.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import kv from "../index.js";

const index = fileURLToPath(new URL("../index.js", import.meta.url));

// Runs `body` (a function body with `kv` in scope) in a child process under `env`; returns its JSON output.
function inChild(body, env, cwd) {
  const script = `const kv = require(${JSON.stringify(index)});
(async () => { const out = await (async () => { ${body} })(); process.stdout.write(JSON.stringify(out ?? null)); })()
  .catch((error) => { process.stdout.write(JSON.stringify({ error: error.message, code: error.code, name: error.name })); });`;
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^POLYKV_(STORE_|URL$)/.test(name)));
  return JSON.parse(
    execFileSync(process.execPath, ["-e", script], { env: { ...clean, ...env }, cwd, encoding: "utf8" }),
  );
}

describe("kv.open()", () => {
  const dir = mkdtempSync(join(tmpdir(), "polykv-open-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));

  it("the default label with nothing set is the zero-config sqlite: store", () => {
    const cwd = mkdtempSync(join(dir, "cwd-"));
    const out = inChild(
      `const s = kv.open(); await s.set("a", 1); return [s.type, await s.get("a"), kv.open("default") === s];`,
      {},
      cwd,
    );
    assert.deepEqual(out, ["SQLITE", 1, true]);
    assert.ok(existsSync(join(cwd, ".polykv", "store.db")), "the store is ./.polykv/store.db");
  });

  it("POLYKV_URL names the default store; POLYKV_STORE_DEFAULT wins over it", () => {
    const file = join(dir, "url.json");
    const out = inChild(`const s = kv.open(); await s.set("k", "v"); return s.type;`, { POLYKV_URL: `file://${file}` });
    assert.equal(out, "FILE");
    assert.ok(existsSync(file));
    const folder = join(dir, "default-folder");
    const both = inChild(`return kv.open().type;`, {
      POLYKV_URL: `file://${file}`,
      POLYKV_STORE_DEFAULT: `file://${folder}/`,
    });
    assert.equal(both, "FOLDER");
  });

  it("a label maps to POLYKV_STORE_<LABEL>, upper-cased with - as _; the same label is the same store", () => {
    const db = join(dir, "cache.db");
    const out = inChild(
      `const a = kv.open("user-cache"); await a.set("x", 2); return [a.type, a === kv.open("user-cache"), a === kv.open(), await kv.open("user-cache").get("x")];`,
      { POLYKV_STORE_USER_CACHE: `sqlite://${db}`, POLYKV_URL: "" },
      mkdtempSync(join(dir, "cwd-")),
    );
    assert.deepEqual(out, ["SQLITE", true, false, 2]);
    assert.ok(existsSync(db));
  });

  it("another label with nothing set is a clear error naming the variable", () => {
    const out = inChild(`return kv.open("sessions");`, {});
    assert.equal(out.code, "ERR_POLYKV_OPTIONS");
    assert.match(out.error, /POLYKV_STORE_SESSIONS/);
  });

  it("a label must be letters, digits, - and _", () => {
    for (const label of ["", "a b", "x/y", 5]) {
      assert.throws(() => kv.open(label), { code: "ERR_POLYKV_OPTIONS" }, String(label));
    }
  });
});

// The CLI, `npx polykv <store> <command>` (bin/polykv.js → lib/cli.js), run as a user
// runs it: a child process, stdout, stderr and the exit code. Not a terminal here, so
// no colours and no progress bar.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import kv from "../index.mjs";

const require = createRequire(import.meta.url);
const bin = join(dirname(fileURLToPath(import.meta.url)), "..", "bin", "polykv.js");
const dir = mkdtempSync(join(tmpdir(), "polykv-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function polykv(args, input) {
  const env = { ...process.env, NO_COLOR: "" };
  delete env.NO_COLOR;
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: dir, input, encoding: "utf8", env });
  return { code: result.status, out: result.stdout, err: result.stderr };
}

describe("npx polykv <store> <command>", () => {
  it("--help lists the commands and exits 0; a wrong command line exits 2 without colours", () => {
    const help = polykv(["--help"]);
    assert.equal(help.code, 0);
    for (const command of [
      "get KEY",
      "set KEY JSON",
      "del KEY",
      "has KEY",
      "keys",
      "list",
      "clear",
      "prune",
      "export",
      "import",
    ]) {
      assert.ok(help.out.includes(command), command);
    }
    for (const args of [
      [],
      ["sqlite:"],
      ["sqlite:", "frob"],
      ["sqlite:", "get"],
      ["sqlite:", "set", "k", "not json"],
      ["sqlite:", "keys", "--expires", "1h"],
    ]) {
      const result = polykv(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.err}`);
      assert.match(result.err, /^polykv: /);
      assert.ok(!result.err.includes("\x1b["), "no colours when stderr is not a terminal");
    }
    assert.equal(polykv(["--version"]).out.trim(), require("../package.json").version);
  });

  it("get, set with --expires, has, del, keys --prefix, list, clear on a SQLite file", async () => {
    const store = "sqlite:./cli.db";
    assert.equal(polykv([store, "set", "user:1", '{"name":"ada"}']).code, 0);
    assert.equal(polykv([store, "set", "user:2", '"linus"', "--expires", "1h"]).code, 0);
    assert.equal(polykv([store, "set", "other", "42", "--expires", "90"]).code, 0);
    assert.deepEqual(polykv([store, "get", "user:1"]), { code: 0, out: '{"name":"ada"}\n', err: "" });
    const missing = polykv([store, "get", "nobody"]);
    assert.equal(missing.code, 1);
    assert.equal(missing.out, "");
    assert.deepEqual([polykv([store, "has", "user:2"]).code, polykv([store, "has", "nobody"]).code], [0, 1]);
    assert.equal(polykv([store, "keys", "--prefix", "user:"]).out, "user:1\nuser:2\n");
    assert.equal(polykv([store, "list"]).out, 'other\t42\nuser:1\t{"name":"ada"}\nuser:2\t"linus"\n');
    // What the CLI wrote is what kv() reads, expiry included.
    const direct = kv(`sqlite://${join(dir, "cli.db")}`);
    assert.equal(await direct.get("user:2"), "linus");
    await direct.close();
    assert.equal(polykv([store, "del", "user:2"]).code, 0);
    assert.equal(polykv([store, "clear", "--prefix", "user:"]).code, 0);
    assert.equal(polykv([store, "keys"]).out, "other\n");
    assert.equal(polykv([store, "prune"]).code, 0);
    assert.equal(polykv([store, "set", "k", "1", "--expires", "5potato"]).code, 2);
  });

  it("export | import copies any store into any other: a polystore JSON file into SQLite, then into a folder", () => {
    writeFileSync(
      join(dir, "polystore.json"),
      JSON.stringify({
        a: { expires: null, value: { deep: [1, "two", null] } },
        b: { expires: null, value: "text" },
        gone: { expires: 1, value: "expired long ago" },
      }),
    );
    const exported = polykv(["file://./polystore.json", "export"]);
    assert.equal(exported.code, 0, exported.err);
    const lines = exported.out
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      lines.sort((x, y) => x.key.localeCompare(y.key)),
      [
        { key: "a", value: { deep: [1, "two", null] }, expires: null },
        { key: "b", value: "text", expires: null },
      ],
    );
    const imported = polykv(["sqlite:./copy.db", "import"], exported.out);
    assert.equal(imported.code, 0, imported.err);
    assert.equal(imported.err, "imported 2 records\n");
    // Through a file this time, and on into a folder.
    assert.equal(polykv(["sqlite:./copy.db", "export", "records.jsonl"]).code, 0);
    assert.equal(readFileSync(join(dir, "records.jsonl"), "utf8").trim().split("\n").length, 2);
    assert.equal(polykv(["file://./folder/", "import", "records.jsonl"]).code, 0);
    assert.equal(polykv(["file://./folder/", "get", "a"]).out, '{"deep":[1,"two",null]}\n');
    // export --prefix keeps the full keys, so an import writes them back where they were.
    assert.equal(
      polykv(["file://./folder/", "export", "--prefix", "b"]).out,
      '{"key":"b","value":"text","expires":null}\n',
    );
  });

  it("import skips records already expired and keeps the others' deadlines; a bad line exits 2", async () => {
    const soon = Date.now() + 3_600_000;
    const input = [
      JSON.stringify({ key: "live", value: 1, expires: soon }),
      JSON.stringify({ key: "dead", value: 2, expires: Date.now() - 1000 }),
      JSON.stringify({ key: "forever", value: 3, expires: null }),
      "",
    ].join("\n");
    const result = polykv(["file://./deadlines.json", "import", "-"], input);
    assert.equal(result.code, 0, result.err);
    assert.equal(result.err, "imported 2 records, skipped 1 already expired\n");
    const raw = JSON.parse(readFileSync(join(dir, "deadlines.json"), "utf8"));
    assert.deepEqual(Object.keys(raw).sort(), ["forever", "live"]);
    assert.ok(Math.abs(raw.live.expires - soon) < 1000, `deadline kept: ${raw.live.expires} vs ${soon}`);
    assert.equal(raw.forever.expires, null);
    const bad = polykv(["file://./deadlines.json", "import"], '{"key":"x","value":1}\nnot json\n');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /line 2 is not JSON/);
  });

  it("export reads each record's deadline through getWithMetadata() where the store has it", async () => {
    const { exportRecords } = require("../lib/cli.js");
    const records = new Map([
      ["a", { value: 1, metadata: null, expires: 1_900_000_000_000 }],
      ["b", { value: "x", metadata: null, expires: null }],
    ]);
    const store = {
      keys: async () => [...records.keys()],
      async *[Symbol.asyncIterator]() {
        for (const [key, { value }] of records) yield [key, value];
      },
      getWithMetadata: async (key) => records.get(key) ?? null,
    };
    const file = join(dir, "meta.jsonl");
    assert.equal(await exportRecords(store, file), 2);
    assert.deepEqual(
      readFileSync(file, "utf8")
        .trim()
        .split("\n")
        .map((line) => JSON.parse(line)),
      [
        { key: "a", value: 1, expires: 1_900_000_000_000 },
        { key: "b", value: "x", expires: null },
      ],
    );
  });

  it("a store that cannot be opened or reached says why: 2 for the command line, 3 for the store", () => {
    const mongo = polykv(["mongodb://localhost/app", "get", "a"]);
    assert.equal(mongo.code, 2);
    assert.match(mongo.err, /no MongoDB backend/);
    const down = polykv(["redis://127.0.0.1:1", "get", "a"]);
    assert.equal(down.code, 3);
    assert.match(down.err, /ERR_POLYKV_CONNECTION/);
  });
});

// The examples README points at must run as written.
import { it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync } from "node:fs";

const folder = new URL("../examples/", import.meta.url);

for (const file of readdirSync(folder).filter((name) => name.endsWith(".mjs"))) {
  it(`examples/${file} runs`, () => {
    const output = execFileSync(process.execPath, [new URL(file, folder).pathname], {
      cwd: new URL("..", import.meta.url),
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.ok(output.trim().length > 0, "the example prints its results");
  });
}

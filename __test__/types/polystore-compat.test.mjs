// The sample app in polystore-app.mts must be a genuine polystore app: it compiles against
// polystore's own typings here (`npm run test:types` compiles it against polykv's).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import test from "node:test";

const root = fileURLToPath(new URL("../../", import.meta.url));

test("the sample app in __test__/types compiles against polystore's typings", () => {
  const tsc = spawnSync(process.execPath, ["node_modules/typescript/bin/tsc", "-p", "__test__/types/tsconfig.polystore.json"], {
    cwd: root,
    encoding: "utf8",
  });
  assert.equal(tsc.status, 0, `tsc reported:\n${tsc.stdout}${tsc.stderr}`);
});

// keyv's own adapter test suite, run against polykv/keyv over memory and a SQLite file.
import * as test from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import keyvTestSuite, { keyvIteratorTests } from "@keyv/test-suite";
import Keyv from "keyv";
import polykvKeyv from "polykv/keyv";

const dir = mkdtempSync(join(tmpdir(), "polykv-keyv-"));
test.afterAll(() => rmSync(dir, { recursive: true, force: true }));

const rows = [
  ["memory", () => polykvKeyv()],
  ["sqlite", () => polykvKeyv(`sqlite://${join(dir, "keyv.db")}`)],
];

for (const [name, store] of rows) {
  test.describe(`@keyv/test-suite over polykv/keyv (${name})`, () => {
    // A new adapter per `new Keyv({ store: store() })`, as keyv's own adapters are tested
    // (keyv sets its namespace on the adapter), all over one polykv store: prefix("")
    // is a new adapter on the same store.
    const shared = store();
    keyvTestSuite(test, Keyv, () => shared.prefix(""));
    keyvIteratorTests(test, Keyv, () => shared.prefix(""));
  });
}

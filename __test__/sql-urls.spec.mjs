// URL strings for the SQL servers: kv("postgres://…") / "postgresql://…" make a pg Pool,
// kv("mysql://…") / "mariadb://…" a mysql2 pool, each from the app's own installed
// client, which close() ends. Without that client, one clear error names the package.
// The install-layout tests copy polykv's published files into a temp app's
// node_modules and run a child process there, so resolution is the one an app gets.
// Needs POLYKV_TEST_POSTGRES_URL and POLYKV_TEST_MYSQL_URL (.ci/services.sh).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import mysql from "mysql2/promise";
import kv from "../index.mjs";
import { serviceUrl } from "./fixtures/service.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const PG_URL = serviceUrl("POLYKV_TEST_POSTGRES_URL", "kv(postgres:// URL)");
const MYSQL_URL = serviceUrl("POLYKV_TEST_MYSQL_URL", "kv(mysql:// URL)");
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const withPath = (url, path) => Object.assign(new URL(url), { pathname: path }).href;

// A temp app with polykv installed as npm would (its package.json "files", plus the
// addon), and `packages` of this repo's node_modules linked in as the app's own.
function appWith(packages) {
  const app = mkdtempSync(join(tmpdir(), "polykv-url-app-"));
  writeFileSync(join(app, "package.json"), '{ "name": "app", "private": true }');
  const installed = join(app, "node_modules", "polykv");
  mkdirSync(installed, { recursive: true });
  const { files } = createRequire(import.meta.url)("../package.json");
  for (const file of [...files, "package.json", "polykv.linux-x64-gnu.node"]) {
    cpSync(join(ROOT, file), join(installed, file), { recursive: true, errorOnExist: false, force: true });
  }
  for (const name of packages) symlinkSync(join(ROOT, "node_modules", name), join(app, "node_modules", name), "dir");
  return app;
}

// Runs `code` (CommonJS, with `kv` = the app's polykv) in the app; its stdout as JSON.
function runIn(app, code) {
  const script = `const kv = require("polykv");
    (async () => { ${code} })().then((out) => console.log(JSON.stringify(out)), (error) => {
      console.log(JSON.stringify({ thrown: { name: error.name, code: error.code, message: error.message } }));
    });`;
  return JSON.parse(execFileSync(process.execPath, ["-e", script], { cwd: app, encoding: "utf8", timeout: 30_000 }));
}

describe("SQL URL strings, in an app without the client package", () => {
  const apps = [];
  after(() => {
    for (const app of apps) rmSync(app, { recursive: true, force: true });
  });

  for (const [url, type, needs] of [
    ["postgres://u@127.0.0.1:1/db", "POSTGRES", "pg"],
    ["postgresql://u@127.0.0.1:1/db", "POSTGRES", "pg"],
    ["mysql://u@127.0.0.1:1/db", "MYSQL", "mysql2"],
    ["mariadb://u@127.0.0.1:1/db", "MYSQL", "mysql2"],
  ]) {
    it(`kv("${url.split("//")[0]}//…") throws at kv() time, saying to install ${needs}`, () => {
      const app = appWith([]);
      apps.push(app);
      // Only meaningful where the package is not resolvable from the app at all.
      assert.throws(() => createRequire(join(app, "index.js")).resolve(needs), { code: "MODULE_NOT_FOUND" });
      const { thrown } = runIn(app, `kv(${JSON.stringify(url)}); return {};`);
      assert.equal(thrown.code, "ERR_POLYKV_CLIENT");
      assert.equal(thrown.name, "Error");
      assert.ok(thrown.message.includes(`npm install ${needs}`), thrown.message);
      assert.ok(thrown.message.startsWith(`[polykv] [${type}] `), thrown.message);
      assert.ok(!thrown.message.includes("127.0.0.1"), "the URL (it may hold a password) is not in the message");
    });
  }

  it("polykv itself loads, and other stores work, without pg or mysql2", () => {
    const app = appWith([]);
    apps.push(app);
    const out = runIn(app, `const s = kv(); await s.set("a", 1); return { a: await s.get("a"), type: s.type };`);
    assert.deepEqual(out, { a: 1, type: "MEMORY" });
  });
});

if (PG_URL) {
  describe("kv(postgres URL)", () => {
    const name = `polykv_url_${randomBytes(4).toString("hex")}`;
    const url = withPath(PG_URL, `/${name}`);
    let admin;
    before(async () => {
      admin = new pg.Client(PG_URL);
      await admin.connect();
      await admin.query(`CREATE DATABASE ${name}`);
    });
    after(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    });
    const connections = async () =>
      (await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [name])).rows[0].n;

    it("postgres://, postgresql:// and a URL object are POSTGRES stores on a pool of their own; close() ends it", async () => {
      const stores = [kv(url), kv(url.replace(/^postgres:/, "postgresql:")), kv(new URL(url), { prefix: "u:" })];
      for (const store of stores) assert.equal(store.type, "POSTGRES");
      await Promise.all(stores.map((store, i) => Promise.all([1, 2, 3].map((n) => store.set(`k${i}${n}`, n)))));
      assert.deepEqual((await stores[0].keys()).sort(), [
        "k01",
        "k02",
        "k03",
        "k11",
        "k12",
        "k13",
        "u:k21",
        "u:k22",
        "u:k23",
      ]);
      assert.deepEqual(await stores[2].get("k22"), 2);
      assert.ok((await connections()) >= 3);
      for (const store of stores) await store.close();
      await sleep(100);
      assert.equal(await connections(), 0, "every pool polykv made is ended");
      await assert.rejects(stores[0].get("k01"));
    });

    it("uses the app's own pg, resolved from where polykv is installed", () => {
      const app = appWith(["pg"]);
      try {
        const out = runIn(
          app,
          `const s = kv(${JSON.stringify(url)}, { prefix: "app:" }); await s.set("x", { from: "app" });
           const back = await s.get("x"); await s.clear(); await s.close(); return { type: s.type, back };`,
        );
        assert.deepEqual(out, { type: "POSTGRES", back: { from: "app" } });
      } finally {
        rmSync(app, { recursive: true, force: true });
      }
    });

    it("a store nobody closes does not keep the process alive once idle", () => {
      const app = appWith(["pg"]);
      try {
        const started = Date.now();
        const out = runIn(
          app,
          `const s = kv(${JSON.stringify(url)}); await s.set("idle", 1); return await s.get("idle");`,
        );
        assert.equal(out, 1);
        assert.ok(Date.now() - started < 8000, `the process exited after ${Date.now() - started} ms`);
      } finally {
        rmSync(app, { recursive: true, force: true });
      }
    });
  });
}

if (MYSQL_URL) {
  describe("kv(mysql URL)", () => {
    const name = `polykv_url_${randomBytes(4).toString("hex")}`;
    const url = withPath(MYSQL_URL, `/${name}`);
    let admin;
    before(async () => {
      admin = await mysql.createConnection(MYSQL_URL);
      await admin.query(`CREATE DATABASE ${name}`);
    });
    after(async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    });
    const connections = async () =>
      Number(
        (await admin.query("SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE DB = ?", [name]))[0][0].n,
      );

    it("mysql://, mariadb:// and a URL object are MYSQL stores on a mysql2 pool of their own; close() ends it", async () => {
      const stores = [kv(url), kv(url.replace(/^mysql:/, "mariadb:")), kv(new URL(url), { prefix: "u:" })];
      for (const store of stores) assert.equal(store.type, "MYSQL");
      await Promise.all(stores.map((store, i) => Promise.all([1, 2, 3].map((n) => store.set(`k${i}${n}`, n)))));
      assert.deepEqual(await stores[0].keys(), ["k01", "k02", "k03", "k11", "k12", "k13", "u:k21", "u:k22", "u:k23"]);
      assert.ok((await connections()) >= 3);
      for (const store of stores) await store.close();
      await sleep(100);
      assert.equal(await connections(), 0, "every pool polykv made is ended");
      await assert.rejects(stores[0].get("k01"));
    });

    it("uses the app's own mysql2, resolved from where polykv is installed", () => {
      const app = appWith(["mysql2"]);
      try {
        const out = runIn(
          app,
          `const s = kv(${JSON.stringify(url)}, { prefix: "app:" }); await s.set("x", { from: "app" });
           const back = await s.get("x"); await s.clear(); await s.close(); return { type: s.type, back };`,
        );
        assert.deepEqual(out, { type: "MYSQL", back: { from: "app" } });
      } finally {
        rmSync(app, { recursive: true, force: true });
      }
    });
  });
}

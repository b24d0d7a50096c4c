// The browser build (browser/polykv.mjs, the "browser" export condition) in a real
// headless Chromium: Debian's /usr/bin/chromium driven by playwright-core. A local
// static server (loopback only) serves the build, localForage's own UMD file and a
// page whose import map points "polykv" at the build, as a front-end bundler would
// resolve it; polykv/server answers the HTTP API under /api/ on the same origin.
// The page imports "polykv" as an app does; nothing in it is Node or the addon.
//
// Without Chromium this file is skipped (counted in the runner's summary), except
// under CI, where .ci/run installs it and its absence fails.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import kv from "../index.mjs";
import { createHandler } from "../lib/server.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const CHROMIUM = process.env.POLYKV_CHROMIUM ?? "/usr/bin/chromium";
const missing = existsSync(CHROMIUM) ? null : `${CHROMIUM} is not installed (apt-get install chromium)`;
if (missing && process.env.CI) throw new Error(`${missing}: .ci/run must install it`);

const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>polykv in Chromium</title>
<script type="importmap">{ "imports": { "polykv": "/browser/polykv.mjs" } }</script>
<script src="/localforage.js"></script>
<p>polykv</p>`;

describe("browser build in headless Chromium", { skip: missing ?? false }, () => {
  let browser;
  let page;
  let server;
  let origin;
  const served = kv(); // the store behind /api/

  before(async () => {
    execFileSync(process.execPath, [join(root, "scripts", "build-browser.mjs")], { stdio: "ignore" });
    const api = createHandler(served, { base: "/api/" });
    const files = {
      "/": ["text/html", () => PAGE],
      "/browser/polykv.mjs": ["text/javascript", () => readFileSync(join(root, "browser", "polykv.mjs"))],
      "/localforage.js": [
        "text/javascript",
        () => readFileSync(join(root, "node_modules", "localforage", "dist", "localforage.js")),
      ],
    };
    server = createServer((req, res) => {
      const path = new URL(req.url, "http://x").pathname;
      if (path.startsWith("/api/")) return api(req, res);
      const file = files[path];
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { "content-type": file[0] }).end(file[1]());
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${server.address().port}`;
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // As root, with no network but loopback: no sandbox, no background traffic (playwright
      // gives it a fresh, empty profile).
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    page = await browser.newPage();
    page.on("pageerror", (error) => console.error("[page]", error));
    await page.goto(`${origin}/`);
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  });

  it('the "browser" export condition resolves polykv to the browser build', () => {
    const resolved = execFileSync(
      process.execPath,
      ["--conditions=browser", "--input-type=module", "-e", 'console.log(import.meta.resolve("polykv"))'],
      { cwd: root, encoding: "utf8" },
    ).trim();
    assert.equal(resolved, new URL("../browser/polykv.mjs", import.meta.url).href);
  });

  it("memory: set, get, add, expiry and listing, with the JS expires grammar and key generator", async () => {
    const result = await page.evaluate(async () => {
      const { default: kv, parseExpires } = await import("polykv");
      const store = kv(undefined, { strict: true });
      await store.set("a", { deep: [1, "two"] }, { expires: "1h 30m" });
      await store.set("short", 1, { expires: "50ms" });
      const id = await store.add("added");
      const before = await store.keys();
      await new Promise((resolve) => setTimeout(resolve, 120));
      return {
        type: store.type,
        a: await store.get("a"),
        id: [id.length, /^[A-Za-z0-9]+$/.test(id), await store.get(id)],
        before: before.sort(),
        after: (await store.keys()).sort(),
        parse: [parseExpires("2 days"), parseExpires("potato")],
        native: typeof process === "undefined",
      };
    });
    assert.equal(result.type, "MEMORY");
    assert.deepEqual(result.a, { deep: [1, "two"] });
    assert.deepEqual(result.id, [24, true, "added"]);
    assert.equal(result.before.length, 3);
    assert.equal(result.after.length, 2);
    assert.deepEqual(result.parse, [172800, null]);
    assert.equal(result.native, true, "a page has no process object");
  });

  it("localStorage and sessionStorage keep polystore's records, and localStorage survives a reload", async () => {
    const written = await page.evaluate(async () => {
      const { default: kv } = await import("polykv");
      localStorage.clear();
      sessionStorage.clear();
      const local = kv(localStorage, { prefix: "app:" });
      const session = kv(sessionStorage);
      await local.set("user", { name: "ada" }, { expires: "1 day" });
      await session.set("tab", "one");
      return { types: [local.type, session.type], raw: JSON.parse(localStorage.getItem("app:user")) };
    });
    assert.deepEqual(written.types, ["STORAGE", "STORAGE"]);
    assert.deepEqual(written.raw.value, { name: "ada" });
    assert.ok(written.raw.expires > Date.now() + 86_000_000);
    await page.reload();
    const read = await page.evaluate(async () => {
      const { default: kv } = await import("polykv");
      return [await kv(localStorage, { prefix: "app:" }).get("user"), await kv(sessionStorage).keys()];
    });
    assert.deepEqual(read, [{ name: "ada" }, ["tab"]]);
  });

  it('cookies: kv("cookie") writes document.cookie, with an expiry the browser enforces', async () => {
    const result = await page.evaluate(async () => {
      const { default: kv } = await import("polykv");
      const cookies = kv("cookie");
      await cookies.set("theme", "dark");
      await cookies.set("flash", { text: "saved" }, { expires: 1 });
      const first = [await cookies.get("theme"), await cookies.get("flash"), document.cookie.includes("theme=")];
      await new Promise((resolve) => setTimeout(resolve, 2100));
      return { type: cookies.type, first, later: await cookies.get("flash"), keys: await cookies.keys() };
    });
    assert.equal(result.type, "COOKIE");
    assert.deepEqual(result.first, ["dark", { text: "saved" }, true]);
    assert.equal(result.later, null, "Chromium dropped the expired cookie");
    assert.deepEqual(result.keys, ["theme"]);
    const jar = await page.context().cookies();
    assert.ok(jar.some((cookie) => cookie.name === "theme"));
  });

  it("localForage over Chromium's real IndexedDB", async () => {
    const result = await page.evaluate(async () => {
      const { default: kv } = await import("polykv");
      const store = kv(window.localforage, { prefix: "lf:" });
      await store.set("n", 41);
      await store.set("n", (await store.get("n")) + 1);
      await store.set("gone", 1, { expires: "20ms" });
      await new Promise((resolve) => setTimeout(resolve, 60));
      return {
        type: store.type,
        driver: window.localforage.driver(),
        n: await store.get("n"),
        gone: await store.get("gone"),
        raw: await window.localforage.getItem("lf:n"),
      };
    });
    assert.equal(result.type, "FORAGE");
    assert.equal(result.driver, "asyncStorage", "localForage's IndexedDB driver");
    assert.equal(result.n, 42);
    assert.equal(result.gone, null);
    assert.deepEqual(result.raw, { expires: null, value: 42 });
  });

  it("the HTTP API client reaches a polykv/server store on the page's origin", async () => {
    await served.set("from-node", { hello: "page" });
    const result = await page.evaluate(async () => {
      const { default: kv } = await import("polykv");
      const remote = kv(`${location.origin}/api/`);
      await remote.set("from-page", [1, 2, 3], { expires: "1h" });
      return { type: remote.type, got: await remote.get("from-node"), keys: (await remote.keys()).sort() };
    });
    assert.equal(result.type, "API");
    assert.deepEqual(result.got, { hello: "page" });
    assert.deepEqual(result.keys, ["from-node", "from-page"]);
    assert.deepEqual(await served.get("from-page"), [1, 2, 3]);
  });

  it("custom clients work; a backend of Node says so instead of failing obscurely", async () => {
    const result = await page.evaluate(async () => {
      const { default: kv } = await import("polykv");
      const records = new Map();
      const custom = kv({ get: (k) => records.get(k), set: (k, v) => void records.set(k, v) });
      await custom.set("k", "v");
      const refused = [];
      for (const url of ["sqlite:", "redis://localhost:6379", "file:///data.json"]) {
        try {
          kv(url);
          refused.push(null);
        } catch (error) {
          refused.push([error.code, error.message]);
        }
      }
      return { custom: await custom.get("k"), refused };
    });
    assert.equal(result.custom, "v");
    for (const refusal of result.refused) {
      assert.ok(refusal, "refused");
      assert.equal(refusal[0], "ERR_POLYKV_UNSUPPORTED");
      assert.match(refusal[1], /not in a browser: polykv's browser build has memory/);
    }
  });
});

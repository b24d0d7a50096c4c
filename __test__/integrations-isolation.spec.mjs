// Importing polykv never loads a framework: the integrations are subpath exports, and
// each one loads only its own framework. Checked in a fresh child process.
import { it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";

const FRAMEWORKS = [
  "express",
  "express-session",
  "hono",
  "hono-sessions",
  "better-auth",
  "axios",
  "axios-cache-interceptor",
];
FRAMEWORKS.push("@fedify/fedify", "keyv", "cache-manager", "unstorage");

// The framework packages whose files `code` (CommonJS) leaves in require.cache.
function loaded(code) {
  const script = `${code};
    const names = new Set();
    for (const file of Object.keys(require.cache)) {
      const match = file.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//);
      if (match) names.add(match[1]);
    }
    console.log(JSON.stringify([...names]));`;
  const names = JSON.parse(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
  return names.filter((name) => FRAMEWORKS.includes(name));
}

it('require("polykv") loads no framework package', () => {
  assert.deepEqual(loaded('const kv = require("polykv"); kv()'), []);
});

it("an integration loads its own framework only (or none)", () => {
  assert.deepEqual(loaded('require("polykv/express")'), ["express-session"]);
  assert.deepEqual(loaded('require("polykv/axios-cache-interceptor")'), ["axios-cache-interceptor"]);
  for (const name of ["hono-sessions", "better-auth", "fedify", "keyv", "unstorage"]) {
    assert.deepEqual(loaded(`require("polykv/${name}")`), [], name);
  }
});

it("every subpath is importable as ESM with the same named exports as CommonJS", async () => {
  const names = {
    express: "ExpressStore",
    "hono-sessions": "HonoSessionStore",
    "better-auth": "BetterAuthStorage",
    "axios-cache-interceptor": "AxiosCacheStorage",
    fedify: "FedifyKvStore",
    keyv: "KeyvStore",
    unstorage: "UnstorageDriver",
  };
  for (const [path, named] of Object.entries(names)) {
    const esm = await import(`polykv/${path}`);
    assert.equal(typeof esm.default, "function", path);
    assert.equal(esm[named], esm.default[named], `${path} exports ${named}`);
  }
});

// A key written twice in package.json is dropped by JSON.parse (the last wins): a second
// "peerDependencies" once hid every framework's optional peer from npm.
it("package.json names each field once, and every framework and SQL client is an optional peer", async () => {
  const { readFileSync } = await import("node:fs");
  const text = readFileSync(new URL("../package.json", import.meta.url), "utf8");
  const fields = [...text.matchAll(/^ {2}"([^"]+)":/gm)].map((match) => match[1]);
  assert.deepEqual(
    fields.filter((field, i) => fields.indexOf(field) !== i),
    [],
  );
  const { peerDependencies, peerDependenciesMeta } = JSON.parse(text);
  for (const peer of ["express-session", "hono-sessions", "better-auth", "axios-cache-interceptor", "@fedify/fedify"]) {
    assert.ok(peer in peerDependencies, peer);
  }
  for (const peer of ["keyv", "unstorage", "pg", "mysql2"]) assert.ok(peer in peerDependencies, peer);
  for (const peer of Object.keys(peerDependencies)) assert.equal(peerDependenciesMeta[peer]?.optional, true, peer);
});

// Store events (docs/behaviour.md §34): `disconnect` and `connect` once per transition
// when the real server goes away and comes back, `error` for a drop while idle, and no
// crash without listeners. Each test runs its own server on a free loopback port (a
// private redis-server; a private Postgres made by .ci/services.sh's own functions),
// so stopping it disturbs no other test.
import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import kv from "../index.js";

const services = fileURLToPath(new URL("../.ci/services.sh", import.meta.url));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const has = (command, ...args) => spawnSync(command, args, { stdio: "ignore" }).status === 0;

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

// Records every event of `store` in order.
function recorder(store) {
  const seen = [];
  for (const event of ["connect", "disconnect", "error"]) store.on(event, () => seen.push(event));
  return seen;
}

async function until(check, ms = 15_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error("timed out");
}

// Calls `call` until it succeeds (the server is back and reconnected).
async function untilAnswered(call) {
  await until(async () => {
    try {
      await call();
      return true;
    } catch {
      return false;
    }
  }, 30_000);
}

const needsRedis = { skip: !has("redis-server", "--version") && !process.env.CI && "redis-server is not installed" };

describe("events on native Redis", () => {
  async function startRedis(port) {
    const child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
      {
        stdio: "ignore",
      },
    );
    await until(() => has("redis-cli", "-p", String(port), "ping"));
    return child;
  }

  it("disconnect once when the server dies, connect once when it is back", needsRedis, async () => {
    const port = await freePort();
    let server = await startRedis(port);
    const store = kv(`redis://127.0.0.1:${port}`);
    const seen = recorder(store);
    try {
      await store.set("a", 1);
      assert.deepEqual(seen, ["connect"]);
      server.kill("SIGKILL");
      await new Promise((resolve) => server.once("exit", resolve));
      // Several failing calls, one transition.
      for (let i = 0; i < 5; i++) await assert.rejects(store.get("a"), { code: "ERR_POLYKV_CONNECTION" });
      await until(() => seen.includes("disconnect"));
      assert.equal(seen.filter((event) => event === "disconnect").length, 1, seen.join());
      server = await startRedis(port);
      await untilAnswered(() => store.set("b", 2));
      assert.equal(await store.get("b"), 2);
      assert.deepEqual(
        seen.filter((event) => event !== "error"),
        ["connect", "disconnect", "connect"],
      );
    } finally {
      await store.close();
      server.kill("SIGKILL");
    }
  });

  it("a drop while idle is an error event; without listeners nothing throws", needsRedis, async () => {
    const port = await freePort();
    const server = await startRedis(port);
    const quiet = kv(`redis://127.0.0.1:${port}`); // no listener at all
    const store = kv(`redis://127.0.0.1:${port}`);
    const errors = [];
    store.on("error", (error) => errors.push(error));
    try {
      await quiet.set("q", 1);
      await store.set("s", 1);
      server.kill("SIGKILL");
      await until(() => errors.length > 0);
      assert.equal(errors[0].code, "ERR_POLYKV_CONNECTION");
      await sleep(200); // the quiet store saw the same drop and did not crash the process
      assert.equal(quiet.listenerCount("error"), 0);
    } finally {
      await quiet.close();
      await store.close();
    }
  });
});

const pgBin = (() => {
  try {
    return execFileSync("bash", ["-c", `source ${services} >/dev/null 2>&1; _pkv_pg_bindir`], {
      encoding: "utf8",
    }).trim();
  } catch {
    return "";
  }
})();
const needsPostgres = {
  skip: !has(join(pgBin, "pg_ctl"), "--version") && !process.env.CI && "the Postgres server is not installed",
};

describe("events on Postgres", () => {
  it("disconnect once when the server stops, connect once when it is back", needsPostgres, async () => {
    const dir = mkdtempSync(join(tmpdir(), "polykv-events-pg-"));
    const port = await freePort();
    const env = { ...process.env, POLYKV_SERVICES_DIR: dir, POLYKV_POSTGRES_PORT: String(port) };
    const shell = (script) =>
      execFileSync("bash", ["-c", `source ${services} >/dev/null; ${script}`], {
        env,
        stdio: ["ignore", "ignore", "pipe"],
      });
    const pgCtl = (action) =>
      shell(
        `_pkv_as_pg "$(_pkv_pg_bindir)/pg_ctl" -D "$_pkv_dir/postgres/data" -l "$_pkv_dir/postgres/server.log" -w -t 30 -m fast ` +
          `-o "-c listen_addresses=127.0.0.1 -p $_pkv_pg_port -k $_pkv_dir/postgres -c fsync=off" ${action}`,
      );
    chmodForPostgres(dir);
    shell("_pkv_start_postgres");
    after(() => {
      try {
        pgCtl("stop");
      } catch {}
      rmSync(dir, { recursive: true, force: true });
    });
    const store = kv(`postgres://postgres@127.0.0.1:${port}/polykv`);
    const seen = recorder(store);
    try {
      await store.set("a", 1);
      assert.deepEqual(seen, ["connect"]);
      pgCtl("stop");
      for (let i = 0; i < 3; i++) await assert.rejects(store.get("a"));
      assert.deepEqual(seen, ["connect", "disconnect"]);
      pgCtl("start");
      await untilAnswered(() => store.get("a"));
      assert.equal(await store.get("a"), 1);
      assert.deepEqual(
        seen.filter((event) => event !== "error"),
        ["connect", "disconnect", "connect"],
      );
    } finally {
      await store.close();
    }
  });
});

// The private cluster's folder must be reachable by the postgres user when running as root.
function chmodForPostgres(dir) {
  if (process.getuid?.() === 0) execFileSync("chmod", ["755", dir]);
}

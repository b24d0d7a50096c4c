// REDIS Cluster over a redis+cluster:// URL, natively (lib/drivers/redis-cluster.js):
// what the conformance suite cannot see. The shared cluster (POLYKV_TEST_REDIS_CLUSTER_URL,
// .ci/services.sh) is used under random prefixes; the slot-migration and failover
// tests make clusters of their own on free loopback ports (scripts/redis-cluster.mjs),
// since they change which node serves what.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import kv from "../index.mjs";
import { serviceUrl } from "./fixtures/service.mjs";
import { cli, clusterShards, freePorts, killNode, startCluster } from "../scripts/redis-cluster.mjs";
import slots from "../lib/redis-slots.js";
import { makeCertificates } from "./fixtures/tls.mjs";
import { clusterClients } from "./fixtures/server-rows.mjs";
import polystore from "polystore";
import { fakeRedis } from "./fixtures/fake-redis.mjs";

const URL_ = serviceUrl("POLYKV_TEST_REDIS_CLUSTER_URL", "redis cluster (native)");
const SHARED_PORT = URL_ ? Number(/:(\d+),/.exec(URL_)[1]) : null;
const unique = () => `polykv-cluster-test:${randomBytes(5).toString("hex")}:`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const clusters = [];
after(async () => {
  for (const cluster of clusters.splice(0)) await cluster.stop();
});

async function ownCluster(masters, replicas, access = {}) {
  const dir = mkdtempSync(join(tmpdir(), "polykv-cluster-spec-"));
  const ports = await freePorts(masters * (replicas + 1));
  const cluster = await startCluster({ dir, ports, replicas, ...access });
  cluster.dir = dir;
  clusters.push(cluster);
  return cluster;
}

// The port of the master serving `slot`, and every master's node id by port.
async function masterOf(port, slot) {
  for (const line of (await cli(port, "cluster", "nodes")).trim().split("\n")) {
    const fields = line.split(" ");
    if (!fields[2].includes("master") || fields[2].includes("fail")) continue;
    for (const range of fields.slice(8)) {
      const [first, last = first] = range.split("-").map(Number);
      if (slot >= first && slot <= last) return { port: Number(fields[1].split(":")[1].split("@")[0]), id: fields[0] };
    }
  }
  throw new Error(`no master serves slot ${slot}`);
}

describe("redis cluster: hash slots", { skip: URL_ === null }, () => {
  it("slotOf is CLUSTER KEYSLOT, for hash tags, non-ASCII and astral keys", async () => {
    const keys = ["foo", "{user1000}.following", "a{}b", "{}{x}", "x{y", "{a}{b}", "é{ü}", "日本", "𝄞q", ""];
    // Random keys of ASCII, two- and three-byte characters and braces (no NUL: they go through argv).
    const alphabet = [..."abc{}:-_ 09", "é", "ß", "ж", "日", "本", "\u{1f600}"];
    for (let i = 0; i < 60; i++) {
      const bytes = randomBytes(1 + (i % 12));
      keys.push([...bytes].map((byte) => alphabet[byte % alphabet.length]).join(""));
    }
    for (const key of keys) {
      assert.equal(slots.slotOf(key), Number(await cli(SHARED_PORT, "cluster", "keyslot", key)), JSON.stringify(key));
    }
  });

  it("chunks() keeps each piece within one slot and at most `size` keys", () => {
    const keys = Array.from({ length: 500 }, (_, i) => (i % 3 === 0 ? `{t}${i}` : `k${i}`));
    const pieces = slots.chunks(keys, 50, true);
    assert.deepEqual(pieces.flat().sort(), [...keys].sort());
    for (const piece of pieces) {
      assert.ok(piece.length <= 50);
      assert.equal(new Set(piece.map(slots.slotOf)).size, 1);
    }
    assert.deepEqual(slots.chunks(keys, 200, false), [keys.slice(0, 200), keys.slice(200, 400), keys.slice(400)]);
  });
});

describe("redis cluster: every master", { skip: URL_ === null }, () => {
  it("keys(), entries(), list() and clear() see the keys of all three masters", async () => {
    const store = kv(URL_, { prefix: unique() });
    try {
      const keys = Array.from({ length: 2000 }, (_, i) => `key-${i}`);
      await store.setMany(keys.map((key, i) => [key, i]));
      const masters = new Set(
        await Promise.all(keys.slice(0, 50).map((key) => masterOf(SHARED_PORT, slots.slotOf(key)))),
      );
      assert.ok(new Set([...masters].map((master) => master.port)).size === 3, "the keys are on three masters");
      assert.deepEqual((await store.keys()).sort(), [...keys].sort());
      assert.equal((await store.entries()).length, 2000);
      const listed = [];
      let cursor;
      do {
        const page = await store.list({ limit: 170, cursor });
        listed.push(...page.keys.map((entry) => entry.name));
        cursor = page.list_complete ? undefined : page.cursor;
      } while (cursor);
      assert.equal(new Set(listed).size, 2000);
      assert.deepEqual(await store.getMany(["key-1", "key-1999", "missing"]), [1, 1999, null]);
      await store.delMany(keys.slice(0, 1000));
      assert.equal((await store.keys()).length, 1000);
      await store.clear();
      assert.deepEqual(await store.keys(), []);
    } finally {
      await store.close();
    }
  });

  it("a hash tag in the prefix keeps a substore on one slot", async () => {
    const tag = randomBytes(4).toString("hex");
    const store = kv(URL_, { prefix: `{${tag}}:` });
    try {
      await store.setMany([
        ["a", 1],
        ["b", 2],
        ["c", 3],
      ]);
      const slot = slots.slotOf(tag);
      // Other tests share the cluster: their keys may fall in this slot too.
      const inSlot = (
        await cli((await masterOf(SHARED_PORT, slot)).port, "cluster", "getkeysinslot", slot, 1000)
      ).split("\n");
      for (const key of ["a", "b", "c"])
        assert.ok(inSlot.includes(`{${tag}}:${key}`), `{${tag}}:${key} is in slot ${slot}`);
      assert.deepEqual(await store.getMany(["a", "b", "c"]), [1, 2, 3]);
      await store.clear();
    } finally {
      await store.close();
    }
  });

  it("a server not in cluster mode, seeds that do not answer and a database in the URL are refused clearly", async () => {
    const single = process.env.POLYKV_TEST_REDIS_URL;
    if (single) {
      const store = kv(single.replace("redis://", "redis+cluster://"));
      await assert.rejects(store.get("x"), { code: "ERR_POLYKV_CLIENT", message: /not in cluster mode/ });
      await store.close();
    }
    const nowhere = kv("redis+cluster://127.0.0.1:1,127.0.0.1:2");
    const started = Date.now();
    await assert.rejects(nowhere.get("x"), { code: "ERR_POLYKV_CONNECTION", message: /127\.0\.0\.1:2/ });
    assert.ok(Date.now() - started < 3000, "no seed answers: the call fails at once");
    await nowhere.close();
    assert.throws(() => kv(`${URL_}/3`), { code: "ERR_POLYKV_CLIENT", message: /one database, 0/ });
    assert.throws(() => kv("redis+cluster://127.0.0.1:1,:x"), { code: "ERR_POLYKV_CLIENT" });
    assert.throws(() => kv(`${URL_}?timeout=5`), { code: "ERR_POLYKV_CLIENT", message: /query or fragment/ });
  });
});

describe("redis cluster: polystore interop", { skip: URL_ === null }, () => {
  it("polykv reads what polystore wrote over a node-redis cluster client, and the reverse", async () => {
    const prefix = unique();
    const ours = kv(URL_, { prefix });
    const theirs = polystore(clusterClients["node-redis v5"](URL_), { prefix });
    try {
      const values = { a: 1, b: "two", c: { nested: [true, null] }, d: [1, 2, 3] };
      for (const [key, value] of Object.entries(values)) await theirs.set(key, value, { expires: 3600 });
      assert.deepEqual(await ours.getMany(Object.keys(values)), Object.values(values));
      const deadline = await ours.expiresAt("a");
      assert.ok(deadline > Date.now() + 3590_000 && deadline <= Date.now() + 3600_000, `${deadline}`);
      await ours.setMany(Object.entries(values).map(([key, value]) => [`ours-${key}`, value]));
      for (const [key, value] of Object.entries(values)) assert.deepEqual(await theirs.get(`ours-${key}`), value);
      await ours.set("short", "gone soon", { expires: "50ms" });
      assert.equal(await theirs.get("short"), "gone soon");
      await sleep(120);
      assert.equal(await theirs.get("short"), null);
    } finally {
      await ours.clear();
      await Promise.all([ours.close(), theirs.close()]);
    }
  });
});

describe("redis cluster: a node that sends hostile redirections", () => {
  const bulk = (text) => `$${Buffer.byteLength(text)}\r\n${text}\r\n`;
  // A one-node "cluster" on a fake server: CLUSTER SLOTS names `host` (itself by
  // default), and every GET is answered with `moved`.
  async function hostile({ host = "127.0.0.1", moved }) {
    let port;
    const fake = await fakeRedis((args) => {
      if (args[0] === "CLUSTER") return `*1\r\n*3\r\n:0\r\n:16383\r\n*2\r\n${bulk(host)}:${port}\r\n`;
      if (args[0] === "GET") return `-${moved}\r\n`;
      return "+OK\r\n";
    });
    port = fake.port;
    return fake;
  }

  for (const [name, moved] of [
    ["credentials in the address", (slot, port) => `MOVED ${slot} secret@127.0.0.1:${port}`],
    ["a slot that is not the key's", (slot, port) => `MOVED 99999 127.0.0.1:${port}`],
    ["a port out of range", (slot) => `ASK ${slot} 127.0.0.1:99999`],
  ]) {
    it(`${name}: the call fails at once, and nothing connects there`, async () => {
      let connections = 0;
      const sink = await fakeRedis(() => {
        connections++;
        return "+OK\r\n";
      });
      const fake = await hostile({ moved: moved(slots.slotOf("x"), sink.port) });
      const store = kv(`redis+cluster://127.0.0.1:${fake.port}`);
      try {
        const started = Date.now();
        await assert.rejects(store.get("x"), { code: "ERR_POLYKV_BACKEND", message: /names another slot or no node/ });
        assert.ok(Date.now() - started < 2000);
        assert.equal(connections, 0);
      } finally {
        await store.close();
        await Promise.all([fake.close(), sink.close()]);
      }
    });
  }

  it("a CLUSTER SLOTS reply that names a host with credentials is refused", async () => {
    const fake = await hostile({ host: "evil@127.0.0.1", moved: "ERR unused" });
    const store = kv(`redis+cluster://127.0.0.1:${fake.port}`);
    try {
      await assert.rejects(store.get("x"), {
        code: "ERR_POLYKV_CONNECTION",
        message: /unexpected reply to CLUSTER SLOTS/,
      });
    } finally {
      await store.close();
      await fake.close();
    }
  });
});

describe("redis cluster: a slot migrating (ASK, TRYAGAIN, then MOVED)", { skip: URL_ === null }, () => {
  it("reads and writes follow the slot to its new master", async () => {
    const cluster = await ownCluster(3, 0);
    const store = kv(cluster.url);
    try {
      const slot = slots.slotOf("mig");
      const source = await masterOf(cluster.ports[0], slot);
      const other = cluster.ports.find((port) => port !== source.port);
      const target = { port: other, id: (await cli(other, "cluster", "myid")).trim() };
      await store.setMany([
        ["{mig}1", "one"],
        ["{mig}2", "two"],
      ]);
      await cli(target.port, "cluster", "setslot", slot, "importing", source.id);
      await cli(source.port, "cluster", "setslot", slot, "migrating", target.id);
      await cli(source.port, "migrate", "127.0.0.1", target.port, "", 0, 5000, "keys", "{mig}1");
      // {mig}1 is on the target now (ASK), {mig}2 still on the source.
      assert.equal(await store.get("{mig}1"), "one");
      assert.equal(await store.get("{mig}2"), "two");
      await store.set("{mig}3", "three"); // a new key of a migrating slot goes to the target
      assert.equal(Number(await cli(target.port, "cluster", "countkeysinslot", slot)), 2);
      // Calls that cannot follow ASK wait for the migration to end: getWithMetadata (GET and
      // PEXPIRETIME) and an MGET over a key on each side (TRYAGAIN).
      const record = store.getWithMetadata("{mig}1");
      const many = store.getMany(["{mig}1", "{mig}2"]);
      await sleep(300);
      await cli(source.port, "migrate", "127.0.0.1", target.port, "", 0, 5000, "keys", "{mig}2");
      for (const port of cluster.ports) await cli(port, "cluster", "setslot", slot, "node", target.id);
      assert.equal((await record).value, "one");
      assert.deepEqual(await many, ["one", "two"]);
      // Migrated: the source answers MOVED, and the store goes to the target from then on.
      assert.equal(await store.get("{mig}2"), "two");
      assert.deepEqual((await store.keys()).sort(), ["{mig}1", "{mig}2", "{mig}3"]);
      assert.equal(await store.increment("{mig}n", 2), 2);
      assert.equal(Number(await cli(target.port, "cluster", "countkeysinslot", slot)), 4);
    } finally {
      await store.close();
    }
  });
});

// A 3-master, 3-replica cluster of its own, a store on it (`watch` sees it before it
// connects) and `n` keys `<name>-<i>` = i written and on the replicas; the victim is the
// master of the first key's slot, the witness another node to ask about the cluster.
async function replicatedCluster(name, n, watch = () => {}) {
  const cluster = await ownCluster(3, 1);
  const store = kv(cluster.url);
  watch(store);
  const keys = Array.from({ length: n }, (_, i) => `${name}-${i}`);
  await store.setMany(keys.map((key, i) => [key, i]));
  const victim = await masterOf(cluster.ports[0], slots.slotOf(keys[0]));
  const witness = cluster.ports.find((port) => port !== victim.port);
  await cli(victim.port, "wait", 1, 5000); // its replica has every key
  return { cluster, store, keys, victim, witness };
}

describe("redis cluster: failover", { skip: URL_ === null }, () => {
  it("a master killed under load: its replica takes over, the store answers again, no call hangs", async () => {
    const events = [];
    const { cluster, store, keys, victim, witness } = await replicatedCluster("failover", 300, (store) => {
      store.on("connect", () => events.push("connect"));
      store.on("disconnect", () => events.push("disconnect"));
    });
    try {
      // 32 callers, each awaiting a get or a set in a loop, until the store answers again.
      let running = true;
      let slowest = 0;
      let answered = 0;
      const codes = new Set();
      const caller = async (n) => {
        for (let i = 0; running; i++) {
          const key = keys[(n * 31 + i * 7) % keys.length];
          const start = Date.now();
          try {
            if (i % 2 === 0) await store.get(key);
            else await store.set(key, i);
            answered++;
          } catch (error) {
            codes.add(error.code);
            await sleep(20);
          }
          slowest = Math.max(slowest, Date.now() - start);
        }
      };
      const callers = Array.from({ length: 32 }, (_, n) => caller(n));
      await sleep(300);
      assert.ok(answered > 0, "the load runs before the kill");
      killNode(cluster.dir, victim.port);
      const killedAt = Date.now();
      let backAfter = null;
      while (backAfter === null && Date.now() - killedAt < 30000) {
        try {
          await store.set(keys[0], "after the failover");
          assert.equal(await store.get(keys[0]), "after the failover");
          backAfter = Date.now() - killedAt;
        } catch {
          await sleep(100);
        }
      }
      running = false;
      let timer;
      const late = new Promise((resolve) => (timer = setTimeout(resolve, 25000, false)));
      const settled = await Promise.race([Promise.all(callers).then(() => true), late]);
      clearTimeout(timer);
      assert.ok(settled, "every call settles");
      assert.notEqual(backAfter, null, "the store answers for the killed master's slots within 30 s");
      // One reply deadline (10 s) and the retry window (10 s) at most, plus slack for a busy machine.
      assert.ok(slowest < 22000, `the slowest call took ${slowest} ms`);
      assert.deepEqual(
        [...codes].filter((code) => code !== "ERR_POLYKV_CONNECTION"),
        [],
      );
      assert.notEqual((await masterOf(witness, slots.slotOf(keys[0]))).port, victim.port, "a replica was promoted");
      assert.equal((await store.keys()).length, keys.length);
      assert.ok(
        events.includes("disconnect") && events.lastIndexOf("connect") > events.indexOf("disconnect"),
        `${events}`,
      );
      console.log(`# failover: the store answered again ${backAfter} ms after the kill; slowest call ${slowest} ms`);
    } finally {
      await store.close();
    }
  });
});

describe("redis cluster: a frozen master", { skip: URL_ === null }, () => {
  it("calls waiting on a master that stops answering settle; reads then come from the promoted replica", async () => {
    const { cluster, store, keys, victim, witness } = await replicatedCluster("frozen", 100);
    try {
      killNode(cluster.dir, victim.port, "SIGSTOP");
      const started = Date.now();
      // Reads and writes of the frozen master's keys, and of the others'.
      const calls = keys.map((key, i) => {
        const call = i % 2 === 0 ? store.get(key) : store.set(key, -i);
        return call.then(
          (value) => ({ ok: true, value, ms: Date.now() - started }),
          (error) => ({ ok: false, code: error.code, ms: Date.now() - started }),
        );
      });
      const outcomes = await Promise.all(calls);
      const slowest = Math.max(...outcomes.map((outcome) => outcome.ms));
      // The reply deadline (10 s) drops the frozen connection; reads are sent again to the
      // promoted replica, writes whose fate is unknown fail.
      assert.ok(slowest < 25000, `the slowest call took ${slowest} ms`);
      for (const [i, outcome] of outcomes.entries()) {
        if (i % 2 === 0) assert.deepEqual(outcome.ok && outcome.value, i, `get ${keys[i]}: ${JSON.stringify(outcome)}`);
        else assert.ok(outcome.ok || outcome.code === "ERR_POLYKV_CONNECTION", JSON.stringify(outcome));
      }
      assert.notEqual((await masterOf(witness, slots.slotOf(keys[0]))).port, victim.port, "a replica was promoted");
      const failed = outcomes.filter((outcome) => !outcome.ok).length;
      console.log(`# frozen master: every call settled within ${slowest} ms; ${failed} writes failed`);
      await store.set(keys[0], "after");
      assert.equal(await store.get(keys[0]), "after");
    } finally {
      killNode(cluster.dir, victim.port, "SIGCONT");
      await store.close();
    }
  });
});

describe("redis cluster: TLS and a password (rediss+cluster://)", { skip: URL_ === null }, () => {
  it("reaches every master over TLS with the URL's password; a wrong password is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "polykv-cluster-tls-"));
    const tls = makeCertificates(dir);
    const cluster = await ownCluster(3, 0, { tls, password: "s3 cret" });
    assert.match(cluster.url, /^rediss\+cluster:\/\/:s3%20cret@127\.0\.0\.1:\d+,/);
    const before = process.env.SSL_CERT_FILE;
    process.env.SSL_CERT_FILE = tls.ca; // read when a connection is made
    const store = kv(cluster.url, { prefix: unique() });
    const wrong = kv(cluster.url.replace("s3%20cret", "wrong"));
    try {
      const keys = Array.from({ length: 300 }, (_, i) => `k${i}`);
      await store.setMany(keys.map((key, i) => [key, i]));
      assert.deepEqual((await store.keys()).sort(), [...keys].sort());
      assert.deepEqual(await store.getMany(["k0", "k299"]), [0, 299]);
      await assert.rejects(wrong.get("k0"), (error) => {
        assert.equal(error.code, "ERR_POLYKV_CONNECTION");
        assert.match(error.message, /auth|pass/i);
        assert.ok(!error.message.includes("wrong"), error.message);
        return true;
      });
    } finally {
      if (before === undefined) delete process.env.SSL_CERT_FILE;
      else process.env.SSL_CERT_FILE = before;
      await Promise.all([store.close(), wrong.close()]);
      rmSync(dir, { recursive: true, force: true }); // the servers read their certificates at start
    }
  });
});

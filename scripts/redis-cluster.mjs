// A real Redis Cluster on loopback, of Debian's redis-server, for the tests and for
// .ci/services.sh: `masters` masters with `replicas` replicas each, one folder per
// node under `dir`, made with `redis-cli --cluster create`, ready when every node
// says cluster_state:ok and every master has its replicas.
//
//   node scripts/redis-cluster.mjs start --dir D --port 17000 [--masters 3] [--replicas 1]
//     prints the store URL (redis+cluster://127.0.0.1:17000,…); the servers run on
//     (daemonized) until `stop`
//   node scripts/redis-cluster.mjs stop --dir D
//
// Each node's cluster bus listens on its port + 10000. `nodeTimeout` (ms) is how long
// a silent master takes to be failed over: short, so a failover test ends quickly.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { pathToFileURL } from "node:url";

const run = promisify(execFile);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A redis-cli command on one node; resolves to its output text. */
export async function cli(port, ...args) {
  return cliWith({}, port, ...args);
}

// redis-cli's flags for a cluster's `access` ({ tls, password }, startCluster's options).
const cliFlags = ({ tls, password }) => [
  ...(tls ? ["--tls", "--cacert", tls.ca] : []),
  ...(password ? ["-a", password, "--no-auth-warning"] : []),
];

async function cliWith(access, port, ...args) {
  const { stdout } = await run("redis-cli", [...cliFlags(access), "-h", "127.0.0.1", "-p", String(port), ...args], {
    timeout: 10000,
  });
  return stdout;
}

async function until(what, seconds, check) {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`Redis Cluster: ${what} within ${seconds} s`);
    await sleep(100);
  }
}

const pidOf = (dir, port) => Number(readFileSync(join(dir, String(port), "redis.pid"), "utf8"));

/**
 * Starts one cluster node (daemonized); resolves when it answers PING. `tls` ({ cert, key,
 * ca }: file paths) serves TLS only, on `port`, the cluster bus and replication included;
 * `password` is required of clients and of replicas.
 */
export async function startNode(dir, port, { nodeTimeout = 2000, tls, password } = {}) {
  const home = join(dir, String(port));
  mkdirSync(home, { recursive: true });
  const ports = tls
    ? ["--port", "0", "--tls-port", String(port), "--tls-cluster", "yes", "--tls-replication", "yes",
       "--tls-cert-file", tls.cert, "--tls-key-file", tls.key, "--tls-ca-cert-file", tls.ca, "--tls-auth-clients", "no"]
    : ["--port", String(port)]; // prettier-ignore
  const auth = password ? ["--requirepass", password, "--masterauth", password] : [];
  await run("redis-server", [
    "--bind", "127.0.0.1", ...ports, ...auth, "--cluster-enabled", "yes",
    "--cluster-config-file", join(home, "nodes.conf"), "--cluster-node-timeout", String(nodeTimeout),
    "--save", "", "--appendonly", "no", "--dir", home, "--daemonize", "yes",
    "--pidfile", join(home, "redis.pid"), "--logfile", join(home, "redis.log"),
  ]); // prettier-ignore
  const answers = async () => (await cliWith({ tls, password }, port, "ping")).trim() === "PONG";
  await until(`the node on port ${port} does not answer PING`, 15, answers);
}

/**
 * Starts a cluster on `ports` (masters first, then replicas) and resolves with
 * { url, ports, cli(port, ...args), stop() } once it serves every slot with every replica
 * attached. `tls` and `password` as for startNode; the URL then is rediss+cluster:// with
 * the password in it.
 */
export async function startCluster(options) {
  try {
    return await makeCluster(options);
  } catch (error) {
    await stopCluster(options.dir); // the nodes started so far, so a failed start leaves none running
    throw error;
  }
}

async function makeCluster({ dir, ports, replicas = 1, nodeTimeout = 2000, tls, password }) {
  const access = { tls, password };
  await Promise.all(ports.map((port) => startNode(dir, port, { nodeTimeout, ...access })));
  const nodes = ports.map((port) => `127.0.0.1:${port}`);
  const create = ["--cluster", "create", ...nodes, "--cluster-replicas", String(replicas), "--cluster-yes"];
  await run("redis-cli", [...cliFlags(access), ...create], { timeout: 60000 });
  const masters = ports.length / (replicas + 1);
  const nodeCli = (port, ...args) => cliWith(access, port, ...args);
  await until("the cluster is not ready", 60, async () => {
    for (const port of ports) if (!(await nodeCli(port, "cluster", "info")).includes("cluster_state:ok")) return false;
    const shards = await clusterShards(ports[0], nodeCli);
    return shards.length === masters && shards.every((shard) => shard.replicas.length === replicas);
  });
  const credentials = password ? `:${encodeURIComponent(password)}@` : "";
  const url = `${tls ? "rediss" : "redis"}+cluster://${credentials}${nodes.slice(0, masters).join(",")}`;
  return { url, ports, cli: nodeCli, stop: () => stopCluster(dir) };
}

/** The masters' ports with their replicas' ports, as a node sees them: [{ port, replicas }]. */
export async function clusterShards(port, nodeCli = cli) {
  const shards = [];
  for (const line of (await nodeCli(port, "cluster", "nodes")).trim().split("\n")) {
    const [id, address, flags, masterId, , , , state] = line.split(" ");
    if (state !== "connected" || flags.includes("fail")) continue;
    const nodePort = Number(address.split("@")[0].split(":").pop());
    if (flags.includes("master")) shards.push({ id, port: nodePort, replicas: [] });
    else shards.push({ replicaOf: masterId, port: nodePort });
  }
  const masters = shards.filter((shard) => shard.replicas);
  for (const replica of shards.filter((shard) => !shard.replicas)) {
    masters.find((master) => master.id === replica.replicaOf)?.replicas.push(replica.port);
  }
  return masters;
}

/** Stops every node under `dir` (SIGTERM, then SIGKILL) and removes the folder. */
export async function stopCluster(dir) {
  if (!existsSync(dir)) return;
  const pids = [];
  for (const name of readdirSync(dir)) {
    try {
      pids.push(pidOf(dir, name));
    } catch {
      // a node that never started
    }
  }
  for (const pid of pids) kill(pid, "SIGTERM");
  await until("the nodes did not stop", 10, () => pids.every((pid) => !alive(pid))).catch(() => {
    for (const pid of pids) kill(pid, "SIGKILL");
  });
  rmSync(dir, { recursive: true, force: true });
}

/** Signals one node: SIGKILL (the default) as a crash would; SIGSTOP freezes it, SIGCONT resumes it. */
export function killNode(dir, port, signal = "SIGKILL") {
  kill(pidOf(dir, port), signal);
}

function kill(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // gone already
  }
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** `count` consecutive free loopback ports whose bus ports (+10000) are free too. */
export async function freePorts(count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 9000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    let free = true;
    for (const port of ports) if (!(await portFree(port)) || !(await portFree(port + 10000))) free = false;
    if (free) return ports;
  }
  throw new Error("no free loopback ports for a Redis Cluster");
}

// The command line, for .ci/services.sh.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [command, ...rest] = process.argv.slice(2);
  const option = (name, fallback) => {
    const at = rest.indexOf(`--${name}`);
    return at < 0 ? fallback : rest[at + 1];
  };
  const dir = option("dir");
  if (!dir || !["start", "stop"].includes(command)) {
    console.error("usage: node scripts/redis-cluster.mjs start|stop --dir D [--port P] [--masters N] [--replicas R]");
    process.exit(2);
  }
  if (command === "stop") await stopCluster(dir);
  else {
    const base = Number(option("port", "17000"));
    const masters = Number(option("masters", "3"));
    const replicas = Number(option("replicas", "1"));
    const ports = Array.from({ length: masters * (replicas + 1) }, (_, i) => base + i);
    try {
      console.log((await startCluster({ dir, ports, replicas })).url);
    } catch (error) {
      console.error(error.message);
      process.exit(1);
    }
  }
}

// The addon's one release build, and the Rust unit tests over the same compiled
// dependencies (so `npm test` after `npm run build:test` compiles no dependency again):
//   node scripts/build.mjs [--features F]   napi build --platform --release (npm run build, build:test)
//   node scripts/build.mjs --test           cargo test --lib --release (npm run test:rust)
//
// On Linux x64 with glibc, both go through cargo-zigbuild, with zig as the linker, for
// x86_64-unknown-linux-gnu.2.17: the binary then needs glibc 2.17 at most (the
// napi-rs baseline: RHEL 7, Debian 8, Ubuntu 14.04, Amazon Linux 2 and anything
// newer), not the glibc of the machine that built it. zig comes from PyPI
// (`pip install ziglang`), cargo-zigbuild from crates.io (`cargo install
// cargo-zigbuild --locked`); .ci/run installs both.
//
// POLYKV_BUILD=zig requires that route (CI sets it); POLYKV_BUILD=host uses the
// host's own linker, a binary for this machine's glibc. Unset: zig where both tools
// are installed, else the host's linker, with a warning.
import { execFileSync, spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const GLIBC_TARGET = "x86_64-unknown-linux-gnu.2.17";
const args = process.argv.slice(2);
const test = args[0] === "--test";
const extra = test ? args.slice(1) : args;

const works = (command, argv) => spawnSync(command, argv, { stdio: "ignore" }).status === 0;
function isGlibcX64() {
  if (process.platform !== "linux" || process.arch !== "x64") return false;
  return Boolean(process.report?.getReport?.().header?.glibcVersionRuntime);
}

function useZig() {
  const wanted = process.env.POLYKV_BUILD ?? "";
  if (wanted === "host") return false;
  if (!isGlibcX64()) {
    if (wanted === "zig") throw new Error("POLYKV_BUILD=zig: the glibc 2.17 build is for Linux x64 hosts");
    return false;
  }
  const missing = [];
  if (!works("zig", ["version"]) && !works("python3", ["-m", "ziglang", "version"])) {
    missing.push("zig (pip install ziglang)");
  }
  if (!works("cargo-zigbuild", ["--version"])) missing.push("cargo-zigbuild (cargo install cargo-zigbuild --locked)");
  if (missing.length === 0) return true;
  if (wanted === "zig") throw new Error(`POLYKV_BUILD=zig, and ${missing.join(" and ")} is missing`);
  console.warn(
    `[polykv] building with this machine's linker: the addon will need this machine's glibc, not 2.17. Install ${missing.join(" and ")} for the portable build.`,
  );
  return false;
}

function run(command, argv) {
  console.log(`> ${command} ${argv.join(" ")}`);
  execFileSync(command, argv, { cwd: root, stdio: "inherit" });
}

const zig = useZig();
if (test) {
  if (zig) run("cargo-zigbuild", ["test", "--lib", "--release", "--target", GLIBC_TARGET, ...extra]);
  else run("cargo", ["test", "--lib", "--release", ...extra]);
} else {
  const napi = resolve(root, "node_modules", ".bin", process.platform === "win32" ? "napi.cmd" : "napi");
  const target = zig ? ["--cross-compile", "--target", GLIBC_TARGET] : [];
  run(napi, ["build", "--platform", "--release", "--js", "native.js", "--dts", "native.d.ts", ...target, ...extra]);
}

#!/usr/bin/env bash
# Installs the tarballs of `npm run pack:local` (dist/) into an empty app, as a user
# would, with no cargo or rustc on PATH, and runs there, under Node and under Bun, in
# ESM and in CommonJS: the README example (examples/basic.mjs, a memory store), the
# persistence example (kv("sqlite:"), which loads the platform package's binary), a
# JSON file store, and the CLI (npx polykv). Also checks what the tarballs hold: the
# main package has no binary and lists every platform package as an optional
# dependency at its own version; the binary needs glibc 2.17 at most.
#
#   npm run build && npm run pack:local && bash .ci/install-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

say() { echo "[install-test] $*"; }
fail() { echo "[install-test] FAILED: $*" >&2; exit 1; }

main=$(ls dist/polykv-[0-9]*.tgz 2>/dev/null | head -n 1)
[ -n "$main" ] || fail "no dist/polykv-<version>.tgz: run npm run pack:local first"
platforms=()
for tarball in dist/polykv-*.tgz; do
  [ "$tarball" = "$main" ] || platforms+=("$root/$tarball")
done
[ ${#platforms[@]} -gt 0 ] || fail "no platform tarball in dist/"
say "main: $main; platforms: ${platforms[*]##*/}"

# What the main tarball holds, and what it says it depends on.
if tar tzf "$main" | grep -q '\.node$'; then fail "$main holds a .node binary"; fi
tar xzf "$main" -O package/package.json | node -e '
  const pkg = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const deps = pkg.optionalDependencies ?? {};
  const names = Object.keys(deps);
  if (names.length !== pkg.napi.targets.length) throw new Error(`optionalDependencies: ${names} for ${pkg.napi.targets.length} targets`);
  for (const [name, version] of Object.entries(deps)) if (version !== pkg.version) throw new Error(`${name}@${version}, polykv is ${pkg.version}`);
  for (const file of ["browser/polykv.mjs", "bin/polykv.js"]) if (!pkg.files.some((f) => file.startsWith(f))) throw new Error(`${file} not in files`);
  console.log(`[install-test] optionalDependencies: ${names.join(", ")} @ ${pkg.version}`);
'

# A PATH with node, npm, npx and bun, and nothing of Rust.
tools=$(mktemp -d /tmp/polykv-tools-XXXXXX)
app=$(mktemp -d /tmp/polykv-app-XXXXXX)
trap 'rm -rf "$tools" "$app"' EXIT
for tool in node npm npx; do ln -s "$(command -v "$tool")" "$tools/$tool"; done
ln -s "$root/node_modules/.bin/bun" "$tools/bun"
export PATH="$tools:/usr/bin:/bin"
if command -v cargo >/dev/null || command -v rustc >/dev/null; then fail "cargo or rustc is still on PATH"; fi
export CARGO_HOME=/nonexistent RUSTUP_HOME=/nonexistent
unset NAPI_RS_NATIVE_LIBRARY_PATH POLYKV_SQLITE_PATH

cd "$app"
npm init -y >/dev/null
npm install --no-audit --no-fund --loglevel=error "$root/$main" "${platforms[@]}"
[ -d node_modules/polykv ] || fail "polykv is not in node_modules"
binary=$(ls node_modules/polykv-*/polykv.*.node | head -n 1)
[ -n "$binary" ] || fail "no platform binary installed"
if command -v objdump >/dev/null; then
  newest=$(objdump -T "$binary" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -n 1)
  say "$binary: newest glibc symbol $newest"
  [ "$(printf '%s\n' "$newest" GLIBC_2.17 | sort -V | tail -n 1)" = GLIBC_2.17 ] || fail "$binary needs $newest (> 2.17)"
fi

# The README example, as it is and as CommonJS.
cp "$root/examples/basic.mjs" example.mjs
{
  echo 'const kv = require("polykv");'
  echo '(async () => {'
  grep -v '^import kv from "polykv";$' "$root/examples/basic.mjs"
  echo '})();'
} >example.cjs
# Persistence, in the native addon: a counter in ./.polykv/store.db, and a JSON file.
cat >persist.mjs <<'EOF'
import kv from "polykv";
const store = kv("sqlite:");
await store.set("visits", ((await store.get("visits")) ?? 0) + 1);
const file = kv("file://./data.json");
await file.set("runs", ((await file.get("runs")) ?? 0) + 1);
console.log(JSON.stringify({ visits: await store.get("visits"), runs: await file.get("runs"), type: store.type }));
EOF
cat >persist.cjs <<'EOF'
const kv = require("polykv");
(async () => {
  const store = kv("sqlite:");
  await store.set("visits", ((await store.get("visits")) ?? 0) + 1);
  const file = kv("file://./data.json");
  await file.set("runs", ((await file.get("runs")) ?? 0) + 1);
  console.log(JSON.stringify({ visits: await store.get("visits"), runs: await file.get("runs"), type: store.type }));
})();
EOF

# Each runtime prints as the same example prints inside this checkout (Bun formats
# objects its own way); the random keys of add() are masked.
mask() { sed -E 's/[A-Za-z0-9]{24}/<id>/g'; }
count=0
for runtime in node bun; do
  expected=$(cd "$root" && "$runtime" examples/basic.mjs | mask)
  for flavour in mjs cjs; do
    got=$("$runtime" "example.$flavour" | mask)
    [ "$got" = "$expected" ] || fail "$(printf '%s example.%s printed:\n%s\nnot, as in the checkout:\n%s' "$runtime" "$flavour" "$got" "$expected")"
    count=$((count + 1))
    out=$("$runtime" "persist.$flavour")
    [ "$out" = "{\"visits\":$count,\"runs\":$count,\"type\":\"SQLITE\"}" ] || fail "$runtime persist.$flavour printed $out"
    say "$runtime $flavour: the README example and the SQLite/file stores work ($out)"
  done
done
[ -f .polykv/store.db ] || fail "kv(\"sqlite:\") did not write ./.polykv/store.db"

# The CLI, as npx finds it in the app.
npx --no-install polykv "sqlite:" get visits | grep -qx "$count" || fail "npx polykv sqlite: get visits"
npx --no-install polykv "file://./data.json" keys | grep -qx runs || fail "npx polykv file://./data.json keys"
npx --no-install polykv "sqlite:" export - | npx --no-install polykv "file://./copy/" import - >/dev/null
npx --no-install polykv "file://./copy/" get visits | grep -qx "$count" || fail "export | import did not copy visits"
say "npx polykv: get, keys, export | import"
echo "[install-test] passed: Node and Bun, ESM and CommonJS, from the tarballs, without cargo"

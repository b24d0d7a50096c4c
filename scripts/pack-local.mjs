// npm run pack:local: the tarballs that publishing would upload, made from this
// checkout into dist/ (gitignored):
//   - polykv-<platform>-<version>.tgz for each platform package under npm/ whose
//     binary was built here (`npm run build` writes polykv.<platform>.node at the
//     root; it is copied into npm/<platform>/, as `napi artifacts` does in the
//     release workflow);
//   - polykv-<version>.tgz, the main package, with `optionalDependencies` on every
//     platform package of package.json's napi.targets at the same version (what
//     `napi pre-publish` writes before a release), and the browser build.
// .ci/install-test.sh installs them into an empty app.
import { execFileSync } from "node:child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const read = (file) => JSON.parse(readFileSync(file, "utf8"));
const manifest = read(join(root, "package.json"));
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const pack = (cwd) =>
  execFileSync(npm, ["pack", "--ignore-scripts", "--pack-destination", dist], { cwd, encoding: "utf8" })
    .trim()
    .split("\n")
    .pop();

execFileSync(process.execPath, [join(root, "scripts", "build-browser.mjs")], { stdio: "inherit" });
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist);

// The platform packages with a binary here.
const platforms = [];
const optionalDependencies = {};
for (const dir of readdirSync(join(root, "npm")).sort()) {
  const folder = join(root, "npm", dir);
  const platform = read(join(folder, "package.json"));
  if (platform.version !== manifest.version) {
    throw new Error(
      `npm/${dir}/package.json is version ${platform.version}, polykv is ${manifest.version}: run npx napi version`,
    );
  }
  optionalDependencies[platform.name] = manifest.version;
  const binary = join(root, platform.main);
  if (!existsSync(binary)) continue;
  copyFileSync(binary, join(folder, platform.main));
  platforms.push(pack(folder));
  rmSync(join(folder, platform.main));
}
if (platforms.length === 0) throw new Error("no polykv.<platform>.node at the root: run npm run build first");
const expected = manifest.napi.targets.length;
if (Object.keys(optionalDependencies).length !== expected) {
  throw new Error(
    `npm/ has ${Object.keys(optionalDependencies).length} platform packages, napi.targets ${expected}: run npx napi create-npm-dirs`,
  );
}

// The main package, from a copy with the optional dependencies written in.
const stage = join(dist, ".stage");
mkdirSync(stage);
for (const entry of [...manifest.files, "README.md", "LICENSE"]) {
  const from = join(root, entry);
  if (!existsSync(from)) throw new Error(`${entry}, listed in package.json "files", is missing`);
  cpSync(from, join(stage, entry), { recursive: true });
}
writeFileSync(join(stage, "package.json"), JSON.stringify({ ...manifest, optionalDependencies }, null, 2) + "\n");
const main = pack(stage);
rmSync(stage, { recursive: true });

for (const file of [main, ...platforms]) console.log(`dist/${file}`);

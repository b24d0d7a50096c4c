"use strict";
// The CLI behind `npx polykv <store> <command> …` (bin/polykv.js). export and import
// speak JSON lines, one record a line with its expiry, so any store can be copied
// into any other:
//   npx polykv file://./data.json export | npx polykv sqlite:./data.db import
//
// Exit codes: 0 done; 1 the answer is no (get of a missing key, has of an absent
// one); 2 the command line is wrong (a store string polykv cannot open included);
// 3 the store failed (it cannot be reached, or refused the operation).

const fs = require("node:fs");
const readline = require("node:readline");

const HELP = `Usage: polykv <store> <command> [arguments] [options]

<store> is what kv() takes as a string:
  sqlite:                     ./.polykv/store.db (sqlite:./app.db, sqlite:///abs/app.db)
  file://./data.json          one JSON file (polystore's format)
  file://./data/              a folder, one file per key
  redis://localhost:6379      Redis (rediss:// for TLS)
  https://host/kv/            a polykv/server or polystore HTTP API

Commands:
  get KEY                     print the value as JSON (exit 1 when missing)
  set KEY JSON [--expires E]  store a JSON value; E is seconds or a duration: 10s, 5min, 1h, 2d
  del KEY                     delete the key
  has KEY                     print true or false (exit 1 when false)
  keys [--prefix P]           print the keys, one a line
  list [--prefix P]           print KEY<TAB>JSON, one record a line
  clear [--prefix P]          delete every record (or those under P)
  prune                       delete the expired records
  export [FILE|-]             write every record as JSON lines {"key","value","expires"}
                              (expires: Unix ms or null) to FILE or stdout
  import [FILE|-]             read such lines from FILE or stdin and store them; records
                              already expired are skipped

Options:
  --prefix P                  keys, list, clear, export: only the keys that start with P
  --expires E                 set: the record's expiry
  -h, --help                  this text
  -v, --version               polykv's version

Exit codes: 0 done, 1 not found / false, 2 wrong command line, 3 the store failed.
Example: npx polykv file://./old.json export | npx polykv sqlite: import`;

const COMMANDS = {
  get: 1,
  set: 2,
  del: 1,
  has: 1,
  keys: 0,
  list: 0,
  clear: 0,
  prune: 0,
  export: [0, 1],
  import: [0, 1],
};

class Usage extends Error {}

const colour = process.stderr.isTTY && !process.env.NO_COLOR && process.env.TERM !== "dumb";
const paint = (code, text) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);

/** argv → { store, command, args, options } or a Usage error. */
function parse(argv) {
  const options = {};
  const positional = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "-h" || arg === "--help") options.help = true;
    else if (arg === "-v" || arg === "--version") options.version = true;
    else if (arg === "--prefix" || arg === "--expires") {
      if (i + 1 >= argv.length) throw new Usage(`${arg} needs a value`);
      options[arg.slice(2)] = argv[++i];
    } else if (/^--(prefix|expires)=/.test(arg)) {
      const at = arg.indexOf("=");
      options[arg.slice(2, at)] = arg.slice(at + 1);
    } else if (arg.startsWith("--") && arg.length > 2) throw new Usage(`unknown option ${arg}`);
    else positional.push(arg);
  }
  if (options.help || options.version) return { options };
  const [store, command, ...args] = positional;
  if (store === undefined) throw new Usage("which store? polykv <store> <command>");
  if (command === undefined) throw new Usage(`what to do with ${store}? one of: ${Object.keys(COMMANDS).join(", ")}`);
  if (!(command in COMMANDS))
    throw new Usage(`unknown command "${command}": one of ${Object.keys(COMMANDS).join(", ")}`);
  const arity = COMMANDS[command];
  const [min, max] = Array.isArray(arity) ? arity : [arity, arity];
  if (args.length < min || args.length > max) {
    throw new Usage(`${command} takes ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? "" : "s"}`);
  }
  if (options.expires !== undefined && command !== "set") throw new Usage("--expires is for set");
  if (options.prefix !== undefined && !["keys", "list", "clear", "export"].includes(command)) {
    throw new Usage("--prefix is for keys, list, clear and export");
  }
  return { store, command, args, options };
}

/** A progress line on stderr, for a terminal only, redrawn at most every 100 ms. */
function progress(label, total) {
  if (!process.stderr.isTTY) return { tick() {}, done() {} };
  let count = 0;
  let last = 0;
  const draw = () => {
    const width = 30;
    let bar = "";
    if (total) {
      const filled = Math.min(width, Math.round((count / total) * width));
      bar = `[${"#".repeat(filled)}${".".repeat(width - filled)}] `;
    }
    process.stderr.write(`\r${label} ${bar}${count}${total ? `/${total}` : ""} records`);
  };
  return {
    tick() {
      count++;
      const now = Date.now();
      if (now - last >= 100) {
        last = now;
        draw();
      }
    },
    done() {
      if (count > 0) {
        draw();
        process.stderr.write("\n");
      }
    },
  };
}

const json = (value) => JSON.stringify(value);
const records = (n) => `${n} record${n === 1 ? "" : "s"}`;

/** A stream to write lines to, and a way to finish it (FILE or - for stdout). */
function output(target) {
  if (target === undefined || target === "-") return { stream: process.stdout, end: async () => {} };
  const stream = fs.createWriteStream(target);
  return {
    stream,
    end: () => new Promise((resolve, reject) => stream.end((error) => (error ? reject(error) : resolve()))),
  };
}

async function write(stream, text) {
  if (!stream.write(text)) await new Promise((resolve) => stream.once("drain", resolve));
}

// The record's deadline (Unix ms) or null: from getWithMetadata() where the store has it.
async function record(store, key, value) {
  if (typeof store.getWithMetadata !== "function") return { key, value, expires: null };
  const found = await store.getWithMetadata(key);
  if (found === null || found === undefined || found.value === null || found.value === undefined) return null;
  return { key, value: found.value, expires: found.expires ?? null };
}

async function exportRecords(store, target) {
  const { stream, end } = output(target);
  const keys = process.stderr.isTTY ? (await store.keys()).length : 0;
  const bar = progress("export", keys);
  let count = 0;
  for await (const [key, value] of store) {
    const line = await record(store, key, value);
    if (line === null) continue; // expired or deleted since it was listed
    await write(stream, json(line) + "\n");
    count++;
    bar.tick();
  }
  bar.done();
  await end();
  return count;
}

async function importRecords(store, source) {
  let total = 0;
  let input;
  if (source === undefined || source === "-") input = process.stdin;
  else {
    if (process.stderr.isTTY) {
      // A file's lines can be counted first, for the bar.
      const text = fs.readFileSync(source, "utf8");
      total = text.split("\n").filter((line) => line.trim() !== "").length;
    }
    input = fs.createReadStream(source);
  }
  const bar = progress("import", total);
  let imported = 0;
  let expired = 0;
  let number = 0;
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    number++;
    if (line.trim() === "") continue;
    let data;
    try {
      data = JSON.parse(line);
    } catch (error) {
      throw new Usage(`line ${number} is not JSON (${error.message})`);
    }
    if (data === null || typeof data !== "object" || typeof data.key !== "string" || !("value" in data)) {
      throw new Usage(`line ${number} is not a record {"key": "…", "value": …, "expires": …}`);
    }
    const deadline = data.expires ?? null;
    if (deadline !== null && typeof deadline !== "number") {
      throw new Usage(`line ${number}: expires must be Unix ms or null, not ${json(deadline)}`);
    }
    if (deadline !== null && deadline <= Date.now()) {
      expired++;
      continue;
    }
    const expires = deadline === null ? null : (deadline - Date.now()) / 1000;
    await store.set(data.key, data.value, { expires });
    imported++;
    bar.tick();
  }
  bar.done();
  return { imported, expired };
}

async function main(argv) {
  const { store: where, command, args, options } = parse(argv);
  if (options.help) {
    console.log(HELP);
    return 0;
  }
  if (options.version) {
    console.log(require("../package.json").version);
    return 0;
  }
  const kv = require("../index.js");
  const store = kv(where);
  const scoped = options.prefix ? store.prefix(options.prefix) : store;
  try {
    switch (command) {
      case "get": {
        const value = await store.get(args[0]);
        if (value === null) {
          console.error(`${args[0]}: not found`);
          return 1;
        }
        console.log(json(value));
        return 0;
      }
      case "set": {
        let value;
        try {
          value = JSON.parse(args[1]);
        } catch {
          throw new Usage(`the value must be JSON: a string is quoted, e.g. '"${args[1]}"'`);
        }
        const expires = options.expires === undefined ? undefined : kv.parseExpires(numeric(options.expires), true);
        await store.set(args[0], value, expires === undefined ? undefined : { expires });
        return 0;
      }
      case "del":
        await store.del(args[0]);
        return 0;
      case "has": {
        const found = await store.has(args[0]);
        console.log(String(found));
        return found ? 0 : 1;
      }
      case "keys":
        for (const key of await scoped.keys()) console.log((options.prefix ?? "") + key);
        return 0;
      case "list":
        for await (const [key, value] of scoped) console.log(`${(options.prefix ?? "") + key}\t${json(value)}`);
        return 0;
      case "clear":
        await scoped.clear();
        return 0;
      case "prune":
        await store.prune();
        return 0;
      case "export": {
        const count = await exportRecords(options.prefix ? withFullKeys(store, options.prefix) : store, args[0]);
        if (args[0] !== undefined && args[0] !== "-") console.error(`exported ${records(count)} to ${args[0]}`);
        return 0;
      }
      case "import": {
        const { imported, expired } = await importRecords(store, args[0]);
        console.error(`imported ${records(imported)}${expired ? `, skipped ${expired} already expired` : ""}`);
        return 0;
      }
    }
  } finally {
    await Promise.resolve(store.close()).catch(() => {});
  }
  return 0;
}

// "90" is 90 seconds, as kv() reads a number; anything else is a duration string.
const numeric = (text) => (/^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text);

// The records under `prefix`, with their full keys (what import must write back).
function withFullKeys(store, prefix) {
  const scoped = store.prefix(prefix);
  return {
    keys: () => scoped.keys(),
    async *[Symbol.asyncIterator]() {
      for await (const [key, value] of scoped) yield [prefix + key, value];
    },
    getWithMetadata: typeof store.getWithMetadata === "function" ? (key) => store.getWithMetadata(key) : undefined,
  };
}

/** Runs the CLI on `argv`; resolves to the exit code, having printed what went wrong. */
function run(argv) {
  return main(argv).then(
    (code) => code,
    (error) => {
      const message = String(error?.message ?? error).replace(/^\[polykv\] /, "");
      if (error instanceof Usage) {
        console.error(`${paint("1;31", "polykv:")} ${message}\n${paint("2", "Run polykv --help for the commands.")}`);
        return 2;
      }
      console.error(`${paint("1;31", "polykv:")} ${message}${error?.code ? paint("2", ` (${error.code})`) : ""}`);
      // polykv's TypeErrors are the caller's input (a store string it cannot open, a bad
      // key or expiry): the command line is wrong. Anything else is the store failing.
      return error instanceof TypeError || error?.code === "ERR_POLYKV_CLIENT" ? 2 : 3;
    },
  );
}

module.exports = { run, parse, exportRecords, importRecords, HELP };

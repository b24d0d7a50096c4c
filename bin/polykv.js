#!/usr/bin/env node
"use strict";
// `npx polykv <store> <command> …`: lib/cli.js, or `npx polykv --help`.
require("../lib/cli.js")
  .run(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });

"use strict";
// The app's own database client, for a URL string such as kv("postgres://…"): polykv
// ships no client of its own (pg, mysql2 are optional peer dependencies), so the
// package is required only when such a URL is given, from where polykv is installed.

const { polykvError } = require("./errors.js");

/**
 * `require(specifier)` ("pg", "mysql2/promise"), or ERR_POLYKV_CLIENT saying which
 * package to install for `scheme` URLs when the app has none. `from` is the require to
 * resolve with (default: polykv's own).
 */
function requirePeer(specifier, type, scheme, from = require) {
  const name = specifier.split("/")[0];
  try {
    return from(specifier);
  } catch (error) {
    // Only "this very package is missing": an error inside the package is its own.
    const missing = error?.code === "MODULE_NOT_FOUND" && String(error.message).includes(`'${specifier}'`);
    if (!missing) throw error;
    throw polykvError(
      "ERR_POLYKV_CLIENT",
      type,
      `kv("${scheme}//…") uses the app's own "${name}" package, which is not installed: run \`npm install ${name}\``,
      { cause: error },
    );
  }
}

module.exports = { requirePeer };

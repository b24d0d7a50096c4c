"use strict";

// The href of a `file:` string or URL, or null for anything else.
function fileUrl(input) {
  const href = input instanceof URL ? input.href : input;
  return typeof href === "string" && /^file:\/\//i.test(href) ? href : null;
}

// Whether a file: URL names a folder: its path (before any `?` or `#`) ends in "/".
function isFolderUrl(href) {
  return href.replace(/[?#].*$/, "").endsWith("/");
}

module.exports = { fileUrl, isFolderUrl };

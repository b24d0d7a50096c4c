// `npm run test:keyv`: keyv's own test suite (@keyv/test-suite, written for vitest)
// against polykv/keyv. Only this folder's *.test.mjs; the node --test files are not vitest's.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: { root: import.meta.dirname, include: ["*.test.mjs"], fileParallelism: false },
});

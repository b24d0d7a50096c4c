// ESM entry: `import kv from "polykv"`. The implementation is the CommonJS index.js,
// so both module systems share one copy of the code and of the native addon.
import kv from "./index.js";

export default kv;
export const { Store, parseExpires, hash } = kv;
export { kv };

// ESM entry of polykv/better-auth; the implementation is the CommonJS better-auth.js.
import betterAuthStorage from "./better-auth.js";

export default betterAuthStorage;
export const { BetterAuthStorage } = betterAuthStorage;

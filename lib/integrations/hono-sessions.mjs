// ESM entry of polykv/hono-sessions; the implementation is the CommonJS hono-sessions.js.
import honoSessionStore from "./hono-sessions.js";

export default honoSessionStore;
export const { HonoSessionStore } = honoSessionStore;

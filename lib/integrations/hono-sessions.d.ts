// Typings of polykv/hono-sessions (a hono-sessions Store), structural.
import kv = require("../../index.js");

declare namespace honoSessionStore {
  /** hono-sessions' SessionData. */
  export interface SessionData {
    _id?: string;
    _data: Record<string, { value: any; flash: boolean }>;
    _expire: string | null;
    _delete: boolean;
    _accessed: string | null;
  }

  export class HonoSessionStore {
    constructor(client?: any);
    readonly store: kv.Store;
    prefix(prefix: string): HonoSessionStore;
    getSessionById(sessionId?: string): Promise<SessionData | null | undefined>;
    createSession(sessionId: string, initialData: SessionData): Promise<void>;
    persistSessionData(sessionId: string, sessionData: SessionData): Promise<void>;
    deleteSession(sessionId: string): Promise<void>;
  }

  export { honoSessionStore as default };
}

/** A hono-sessions store over `client` (anything kv() takes; default: memory). */
declare function honoSessionStore(client?: any): honoSessionStore.HonoSessionStore;

export = honoSessionStore;

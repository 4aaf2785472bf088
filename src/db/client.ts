import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = ReturnType<typeof db>;

export const db = (d1: D1Database) => drizzle(d1, { schema });

/**
 * A Database over a D1 Sessions API session: its reads may be served by the nearest read replica, with sequential
 * consistency inside the session (a bookmark carries it across requests). Drizzle only calls `prepare` and `batch`,
 * which a session has; writes are still forwarded to the primary by D1.
 */
export const sessionDb = (session: D1DatabaseSession) => db(session as unknown as D1Database);

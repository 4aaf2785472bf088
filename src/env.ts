/** Hono's environment: bindings come from `wrangler types` (src/worker-configuration.d.ts, `npm run cf-typegen`). */
import type { Database } from "./db/client";

/** The caller, once the bearer token is verified and its session is live. */
export interface AuthUser {
  id: number;
  username: string;
  email: string;
  isStaff: boolean;
  sessionId: string;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    db: Database;
    user: AuthUser | null;
    requestId: string;
  };
}

declare global {
  interface Env {
    /**
     * The data Worker, bound only in the edge Worker's config (`wrangler.edge.jsonc`, written by
     * scripts/edge-config.mjs): the writes of src/placement/hop.ts go there. Absent in the data Worker itself.
     */
    DATA?: Fetcher;
  }
}

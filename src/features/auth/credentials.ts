/**
 * Ending a user's credentials: every session (so every access and refresh token) and every device token, in one
 * write. A change of `users.password_hash` or `users.is_staff` already does this by itself, whatever makes it (the
 * trigger `users_credentials_changed` of migration 0007); this is for flows that end access without such a change.
 */
import { eq, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../db/client";
import { sessions, users } from "../../db/schema";
import { nowIso } from "../../lib/time";

/**
 * The statements that revoke every session and device token of a user, to run alone (`db.batch(...)`) or inside the
 * batch of a larger write (a password reset) so both happen or neither.
 */
export function revokeSessionsAndDevices(db: Database, userId: number): [BatchItem<"sqlite">, BatchItem<"sqlite">] {
  return [
    db.update(sessions).set({ revokedAt: nowIso() }).where(sql`${sessions.userId} = ${userId} and ${sessions.revokedAt} is null`),
    db
      .update(users)
      .set({ credentialsVersion: sql`${users.credentialsVersion} + 1`, keepSessionId: null })
      .where(eq(users.id, userId)),
  ];
}

/**
 * Accounts and sessions. A session row stands for one login; its tokens carry its id. Invariants:
 * - only the newest refresh token of a session can be used (rotation); presenting an older one is treated as
 *   theft and revokes the session;
 * - logout revokes the session of the refresh token it is given (other devices stay signed in), or with `all` every
 *   session of the user; change-password revokes every session but the caller's, and every device token;
 * - any change of a user's password hash or staff flag, by any path, ends the user's sessions and device tokens in
 *   the same statement (trigger `users_credentials_changed`, migration 0007);
 * - a revoked session's access tokens stop working on the next request, not after an hour.
 */
import { and, eq, isNull, ne, or, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import type { Database } from "../../db/client";
import { sessions, users, type User } from "../../db/schema";
import type { AuthUser } from "../../env";
import { ApiError, fieldError, isUniqueViolation } from "../../lib/errors";
import { randomHex } from "../../lib/crypto";
import { assertNoFieldErrors, type FieldErrors } from "../../lib/openapi";
import { logError } from "../../lib/log";
import { nowIso } from "../../lib/time";
import { DUMMY_HASH, hashPassword, passwordProblems, verifyPassword } from "./password";
import { beginLogin, finishLogin } from "./login-throttle";
import { issueTokens, newRefreshId, verifyToken, type TokenClaims } from "./tokens";

export type UserOut = {
  id: number;
  username: string;
  email: string;
  first_name: string;
  last_name: string;
  phone: string | null;
  date_joined: string;
};

export const toUserOut = (u: User): UserOut => ({
  id: u.id,
  username: u.username,
  email: u.email,
  first_name: u.firstName,
  last_name: u.lastName,
  phone: u.phone,
  date_joined: u.dateJoined,
});

const tokenError = (message: string) => new ApiError(401, { detail: message, code: "token_not_valid" });

/** The user behind an access token, if its session is live and the user active. One indexed D1 query. */
export async function loadSessionUser(d1: D1Database, claims: TokenClaims): Promise<AuthUser | null> {
  const row = await d1
    .prepare(
      `SELECT u.id, u.username, u.email, u.is_staff FROM sessions s JOIN users u ON u.id = s.user_id
       WHERE s.id = ? AND s.user_id = ? AND s.revoked_at IS NULL AND u.is_active = 1`,
    )
    .bind(claims.sid, claims.user_id)
    .first<{ id: number; username: string; email: string; is_staff: number }>();
  return row && { id: row.id, username: row.username, email: row.email, isStaff: row.is_staff === 1, sessionId: claims.sid };
}

/**
 * Sessions one account keeps: a sign-in past this many ends the oldest (its refresh token stops working, its access
 * token at the next request), so a script that signs in forever cannot grow the table without bound.
 */
export const MAX_SESSIONS_PER_USER = 20;

/**
 * Starts a session and returns its first token pair. `alongside` (a guest cart merge) is written in the same D1
 * batch, so signing in costs one write round trip; if that batch fails, the session alone is written and `merged` is
 * false (the sign-in matters more than the merge).
 */
export async function startSession(db: Database, secret: string, user: Pick<User, "id" | "isStaff">, alongside: BatchItem<"sqlite">[] = []) {
  const sessionId = randomHex(16);
  const userId = user.id;
  const tokens = await issueTokens(secret, { userId, sessionId, isStaff: user.isStaff });
  const insert = db.insert(sessions).values({ id: sessionId, userId, refreshJti: tokens.refreshJti, expiresAt: tokens.refreshExpiresAt });
  // After the insert, in the same batch: the newest MAX_SESSIONS_PER_USER stay (sessions_user_idx, a few rows).
  const endOldest = db.delete(sessions).where(
    sql`${sessions.userId} = ${userId} and ${sessions.id} in (select s.id from ${sessions} s where s.user_id = ${userId}
      order by s.created_at desc, s.rowid desc limit -1 offset ${MAX_SESSIONS_PER_USER})`,
  );
  let merged = alongside.length > 0;
  try {
    await db.batch([insert, endOldest, ...alongside]);
  } catch (err) {
    if (!merged) throw err;
    logError("guest cart merge failed", err, { userId });
    merged = false;
    await db.batch([insert, endOldest]);
  }
  return { sessionId, access: tokens.access, refresh: tokens.refresh, merged };
}

/** Translates a unique-index violation on users into the field error clients expect. */
function userConflict(err: unknown): never {
  if (isUniqueViolation(err, "users_username_lower_unique")) throw fieldError("username", "A user with that username already exists.");
  if (isUniqueViolation(err, "users_email_lower_unique")) throw fieldError("email", "A user with that email already exists.");
  throw err;
}

export interface RegisterInput {
  username: string;
  email: string;
  password: string;
  password2: string;
  first_name: string;
  last_name: string;
  phone?: string | null;
}

/**
 * The field checks of a user's details that need D1 or each other, for the fields given: a username or email another
 * user has (case-insensitively; `exceptId` is the user being edited) and, on register, a weak password. Run beside
 * the schema's own checks (see `withFieldChecks`), so one 400 names every failing field, as DRF's does.
 */
export async function userFieldErrors(
  db: Database,
  fields: { username?: string; email?: string; password?: string },
  exceptId?: number,
): Promise<FieldErrors> {
  const errors: FieldErrors = {};
  const { username, email, password } = fields;
  if (username !== undefined || email !== undefined) {
    const taken = await db
      .select({ username: users.username, email: users.email })
      .from(users)
      .where(
        and(
          or(
            username === undefined ? undefined : sql`lower(${users.username}) = lower(${username})`,
            email === undefined ? undefined : sql`lower(${users.email}) = lower(${email})`,
          ),
          exceptId === undefined ? undefined : ne(users.id, exceptId),
        ),
      )
      .limit(2);
    const same = (a: string, b?: string) => b !== undefined && a.toLowerCase() === b.toLowerCase();
    if (taken.some((u) => same(u.username, username))) errors.username = ["A user with that username already exists."];
    if (taken.some((u) => same(u.email, email))) errors.email = ["A user with that email already exists."];
  }
  if (password !== undefined) {
    const problems = passwordProblems(password, { username, email });
    if (problems.length) errors.password = problems;
  }
  return errors;
}

export async function registerUser(db: Database, input: RegisterInput): Promise<User> {
  assertNoFieldErrors(await userFieldErrors(db, input));
  // DRF's object-level check: only once every field is valid.
  if (input.password !== input.password2) throw fieldError("password", "Password fields didn't match.");
  const passwordHash = await hashPassword(input.password);
  try {
    const [user] = await db
      .insert(users)
      .values({
        username: input.username,
        email: input.email,
        passwordHash,
        firstName: input.first_name,
        lastName: input.last_name,
        phone: input.phone || null,
      })
      .returning();
    return user;
  } catch (err) {
    userConflict(err);
  }
}

/** The user for a username and password, or null. Unknown users cost the same hashing time as wrong passwords. */
/** The account a login names (case-insensitive username), or undefined. Read before the password is checked. */
export async function findAccount(db: Database, username: string): Promise<User | undefined> {
  const [user] = await db
    .select()
    .from(users)
    .where(sql`lower(${users.username}) = lower(${username})`)
    .limit(1);
  return user;
}

/** The account if the password is its own and it is active; an unknown account costs the same hashing time. */
export async function checkPassword(user: User | undefined, password: string): Promise<User | null> {
  const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
  return ok && user?.isActive ? user : null;
}

/** Rotates a refresh token: the old one is spent, a new pair of the same session is returned. */
export async function rotateRefreshToken(db: Database, secret: string, refresh: string) {
  const claims = await verifyToken(secret, refresh, "refresh");
  if (!claims) throw tokenError("Token is invalid");
  const next = newRefreshId();
  const rotated = await db
    .update(sessions)
    .set({ refreshJti: next.refreshJti, expiresAt: next.refreshExpiresAt })
    .where(
      and(
        eq(sessions.id, claims.sid),
        eq(sessions.userId, claims.user_id),
        eq(sessions.refreshJti, claims.jti),
        isNull(sessions.revokedAt),
        sql`exists (select 1 from ${users} where ${users.id} = ${claims.user_id} and ${users.isActive} = 1)`,
      ),
    )
    // the staff flag as it is now, for the new access token's `stf` claim
    .returning({ id: sessions.id, isStaff: sql<number>`(select ${users.isStaff} from ${users} where ${users.id} = ${claims.user_id})` });
  if (rotated.length === 0) {
    // A spent refresh token came back: whoever holds it may have stolen it, so the whole session ends.
    await revokeSessions(db, claims.user_id, { only: claims.sid });
    throw tokenError("Token is blacklisted");
  }
  const tokens = await issueTokens(secret, { userId: claims.user_id, sessionId: claims.sid, isStaff: rotated[0].isStaff === 1 }, next);
  return { access: tokens.access, refresh: tokens.refresh };
}

/** Revokes the user's sessions: all of them, only one, or all but one. */
export async function revokeSessions(db: Database, userId: number, scope: { only?: string; except?: string } = {}) {
  await db
    .update(sessions)
    .set({ revokedAt: nowIso() })
    .where(
      and(
        eq(sessions.userId, userId),
        isNull(sessions.revokedAt),
        scope.only ? eq(sessions.id, scope.only) : undefined,
        scope.except ? ne(sessions.id, scope.except) : undefined,
      ),
    );
}

/** Logout: the refresh token must be the caller's and still usable; then its session ends, or every one with `everywhere`. */
export async function logout(db: Database, secret: string, user: AuthUser, refresh: string, everywhere = false) {
  const claims = await verifyToken(secret, refresh, "refresh");
  if (!claims || claims.user_id !== user.id) throw new ApiError(400, { error: "Token is invalid" });
  const [session] = await db
    .select({ jti: sessions.refreshJti, revokedAt: sessions.revokedAt })
    .from(sessions)
    .where(eq(sessions.id, claims.sid));
  if (!session || session.revokedAt || session.jti !== claims.jti) throw new ApiError(400, { error: "Token is blacklisted" });
  await revokeSessions(db, user.id, everywhere ? {} : { only: claims.sid });
}

/**
 * Checks a signed-in user's password through the login throttle (same keys and limits as login), so an access token
 * alone is no way to guess it; a wrong one is a 400 naming `field`.
 */
async function confirmPassword(env: Env, db: Database, user: AuthUser, input: { password: string; field: string; clientIp?: string }) {
  const [attempt, [row]] = await Promise.all([
    beginLogin(env, user.username, input.clientIp),
    db.select().from(users).where(eq(users.id, user.id)),
  ]);
  const ok = !!row && (await verifyPassword(input.password, row.passwordHash));
  await finishLogin(attempt, ok ? "success" : "failure");
  if (!ok) throw fieldError(input.field, "Wrong password.");
}

/**
 * Changes the password after checking `old_password` through the login throttle (same keys and limits as login), so
 * an access token alone is no way to guess the password. The new hash and the session to spare go in one UPDATE; the
 * trigger of migration 0007 then ends every other session and every device token in that same statement.
 */
export async function changePassword(env: Env, db: Database, user: AuthUser, input: { oldPassword: string; newPassword: string; clientIp?: string }) {
  const problems = passwordProblems(input.newPassword, { username: user.username, email: user.email });
  if (problems.length) throw new ApiError(400, { new_password: problems });
  await confirmPassword(env, db, user, { password: input.oldPassword, field: "old_password", clientIp: input.clientIp });
  await db
    .update(users)
    .set({ passwordHash: await hashPassword(input.newPassword), keepSessionId: user.sessionId })
    .where(eq(users.id, user.id));
}

export async function getUser(db: Database, id: number): Promise<User> {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  if (!user) throw new ApiError(401, { detail: "User not found", code: "user_not_found" });
  return user;
}

export interface ProfileInput {
  username?: string;
  email?: string;
  first_name?: string;
  last_name?: string;
  phone?: string | null;
  current_password?: string;
}

/**
 * Updates the caller's profile. A new email needs the account's password (`current_password`): the email is where a
 * password reset goes, so a stolen access token must not be able to move it and then take the account.
 */
export async function updateProfile(env: Env, db: Database, user: AuthUser, input: ProfileInput, clientIp?: string): Promise<User> {
  const id = user.id;
  assertNoFieldErrors(await userFieldErrors(db, { username: input.username, email: input.email }, id));
  if (input.email !== undefined && input.email.toLowerCase() !== user.email.toLowerCase()) {
    if (!input.current_password) throw fieldError("current_password", "Your password is required to change the email.");
    await confirmPassword(env, db, user, { password: input.current_password, field: "current_password", clientIp });
  }
  const changes = {
    username: input.username,
    email: input.email,
    firstName: input.first_name,
    lastName: input.last_name,
    phone: input.phone === undefined ? undefined : input.phone || null,
  };
  if (Object.values(changes).every((v) => v === undefined)) return getUser(db, id);
  try {
    const [user] = await db.update(users).set(changes).where(eq(users.id, id)).returning();
    return user;
  } catch (err) {
    userConflict(err);
  }
}

/** Creates a staff user, as Django's createsuperuser does (used by scripts/create-admin.mjs and tests). */
export async function createAdminUser(db: Database, input: { username: string; email: string; password: string }) {
  const passwordHash = await hashPassword(input.password);
  try {
    const [user] = await db
      .insert(users)
      .values({ username: input.username, email: input.email, passwordHash, isStaff: true })
      .returning();
    return user;
  } catch (err) {
    userConflict(err);
  }
}

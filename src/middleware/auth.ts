/**
 * The one auth middleware. `authenticate` runs on every /api route: no Authorization header means anonymous;
 * a Bearer token must be a valid, unexpired access token of a live session, or the request is refused with 401
 * (on public routes too, as the original does). Login, refresh and the Razorpay webhook ignore the header.
 * `requireUser` and `requireAdmin` guard routes; `currentUser` reads the guarded user.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv, AuthUser } from "../env";
import { ApiError, forbidden, invalidToken, notAuthenticated } from "../lib/errors";
import { loadSessionUser } from "../features/auth/auth.service";
import { verifyToken } from "../features/auth/tokens";

const HEADER_IGNORED = new Set(["/api/auth/login/", "/api/auth/token/refresh/", "/api/payments/webhook/"]);

export const authenticate = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("Authorization");
  if (!header || HEADER_IGNORED.has(c.req.path)) return next();
  const [scheme, token, ...rest] = header.trim().split(/\s+/);
  if (scheme !== "Bearer") return next(); // other schemes are ignored, as in the original
  if (!token || rest.length > 0) {
    throw new ApiError(401, {
      detail: "Authorization header must contain two space-delimited values",
      code: "bad_authorization_header",
    });
  }
  const claims = await verifyToken(c.env.JWT_SECRET, token, "access");
  if (!claims) throw invalidToken();
  const sessionUser = loadSessionUser(c.env.DB, claims);
  if (!READS.has(c.req.method) || claims.stf === undefined) {
    const user = await sessionUser;
    if (!user) throw invalidToken();
    c.set("user", user);
    return next();
  }
  // A read starts while the session is checked, as the user the verified token names (its id and staff flag): one
  // round trip saved per authenticated read. Its answer is only sent if the session is live and the account's staff
  // flag is still the token's; otherwise the answer is thrown away and the caller gets the 401 it would have got.
  c.set("user", { id: claims.user_id, isStaff: claims.stf, username: "", email: "", sessionId: claims.sid });
  const [checked, handled] = await Promise.allSettled([sessionUser, next()]);
  if (checked.status === "rejected") throw checked.reason;
  if (!checked.value || checked.value.isStaff !== claims.stf) throw invalidToken();
  c.set("user", checked.value);
  if (handled.status === "rejected") throw handled.reason;
});

/** Methods that only read (a user's first GET of the cart creates it empty, nothing more): safe to start early. */
const READS = new Set(["GET", "HEAD"]);

export const requireUser = createMiddleware<AppEnv>(async (c, next) => {
  if (!c.get("user")) throw notAuthenticated();
  return next();
});

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const user = c.get("user");
  if (!user) throw notAuthenticated();
  if (!user.isStaff) throw forbidden();
  return next();
});

/** The authenticated caller on a route guarded by `requireUser`/`requireAdmin`. */
export function currentUser(c: Context<AppEnv>): AuthUser {
  const user = c.get("user");
  if (!user) throw notAuthenticated();
  return user;
}

/**
 * JWTs (HS256, algorithm pinned on verify). Access tokens live 1 hour, refresh tokens 7 days. Every token carries
 * `token_type`, a `jti`, the `user_id` and the session id `sid`; revoking the session revokes both at once. Access
 * tokens also carry `stf`, the staff flag when issued, so a read can start before the session check confirms it.
 */
import jwt from "@tsndr/cloudflare-worker-jwt";
import { randomHex } from "../../lib/crypto";
import { nowSeconds } from "../../lib/time";

export const ACCESS_TTL_SECONDS = 60 * 60;
export const REFRESH_TTL_SECONDS = 7 * 24 * 60 * 60;

export type TokenType = "access" | "refresh";

export interface TokenClaims {
  token_type: TokenType;
  user_id: number;
  sid: string;
  jti: string;
  iat: number;
  exp: number;
  /** Access tokens: whether the user was staff when the token was issued (the session check confirms it). */
  stf?: boolean;
}

export interface TokenPair {
  access: string;
  refresh: string;
  refreshJti: string;
  refreshExpiresAt: number;
}

async function signToken(secret: string, claims: TokenClaims) {
  return { token: await jwt.sign(claims, secret, { algorithm: "HS256" }), claims };
}

/** The refresh token's jti and expiry, known before signing so the session row can store them first. */
export const newRefreshId = () => ({ refreshJti: randomHex(16), refreshExpiresAt: nowSeconds() + REFRESH_TTL_SECONDS });

export interface TokenSubject {
  userId: number;
  sessionId: string;
  isStaff: boolean;
}

export async function issueTokens(secret: string, who: TokenSubject, refreshId = newRefreshId()): Promise<TokenPair> {
  const iat = nowSeconds();
  const base = { user_id: who.userId, sid: who.sessionId, iat };
  const [access, refresh] = await Promise.all([
    signToken(secret, { ...base, token_type: "access", jti: randomHex(16), exp: iat + ACCESS_TTL_SECONDS, stf: who.isStaff }),
    signToken(secret, { ...base, token_type: "refresh", jti: refreshId.refreshJti, exp: refreshId.refreshExpiresAt }),
  ]);
  return { access: access.token, refresh: refresh.token, ...refreshId };
}

/**
 * The claims of a genuine, unexpired token of the expected type, or null. Never throws: the library throws on
 * malformed input, and a token without `exp` would never expire, so both are refused here.
 */
export async function verifyToken(secret: string, token: string, type: TokenType): Promise<TokenClaims | null> {
  let payload: Partial<TokenClaims & { nbf: number }> | undefined;
  try {
    payload = (await jwt.verify<Partial<TokenClaims & { nbf: number }>>(token, secret, { algorithm: "HS256" }))?.payload;
  } catch {
    return null;
  }
  if (!payload || payload.token_type !== type) return null;
  if (typeof payload.exp !== "number" || payload.exp <= nowSeconds()) return null;
  if (typeof payload.nbf === "number" && payload.nbf > nowSeconds()) return null;
  if (!Number.isSafeInteger(payload.user_id) || typeof payload.sid !== "string" || typeof payload.jti !== "string") return null;
  if (payload.stf !== undefined && typeof payload.stf !== "boolean") return null;
  return payload as TokenClaims;
}

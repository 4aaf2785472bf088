/**
 * JWTs (HS256, algorithm pinned on verify). Access tokens live 1 hour, refresh tokens 7 days. Every token carries
 * `token_type`, a `jti`, the `user_id` and the session id `sid`; revoking the session revokes both at once.
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
}

export interface TokenPair {
  access: string;
  refresh: string;
  refreshJti: string;
  refreshExpiresAt: number;
}

async function signToken(secret: string, type: TokenType, userId: number, sessionId: string, ttl: number) {
  const iat = nowSeconds();
  const claims: TokenClaims = { token_type: type, user_id: userId, sid: sessionId, jti: randomHex(16), iat, exp: iat + ttl };
  return { token: await jwt.sign(claims, secret, { algorithm: "HS256" }), claims };
}

export async function issueTokens(secret: string, userId: number, sessionId: string): Promise<TokenPair> {
  const [access, refresh] = await Promise.all([
    signToken(secret, "access", userId, sessionId, ACCESS_TTL_SECONDS),
    signToken(secret, "refresh", userId, sessionId, REFRESH_TTL_SECONDS),
  ]);
  return { access: access.token, refresh: refresh.token, refreshJti: refresh.claims.jti, refreshExpiresAt: refresh.claims.exp };
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
  return payload as TokenClaims;
}

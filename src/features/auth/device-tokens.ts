/**
 * Device tokens: OWASP's "device cookies" (Authentication Cheat Sheet), for an API. A successful login returns one;
 * a login that sends it back is throttled only per device token, so failures of other devices, other accounts or a
 * shared IP (a carrier's NAT) never lock out a customer on a device that has logged in before. Invariants:
 * - opaque to clients, HMAC-SHA256 signed with `JWT_SECRET` under its own label (a JWT is never a device token,
 *   nor the reverse);
 * - bound to one user and to that user's `credentials_version`: any password or staff change (change-password, a
 *   reset, create-admin, raw SQL) bumps the version in the same write (trigger in migration 0007), which revokes
 *   every device token of the user at once, as it ends every session;
 * - holds nothing secret and no state: the login reads the account row anyway, so checking the binding is free.
 */
import { hmacSha256Hex, randomHex, verifyHmacSha256Hex } from "../../lib/crypto";
import { nowSeconds } from "../../lib/time";

export const DEVICE_TOKEN_TTL_SECONDS = 180 * 24 * 60 * 60;
const VERSION = "dt1";
const LABEL = "device-token:";

export interface DeviceClaims {
  userId: number;
  credentialsVersion: number;
  /** Random per login: the throttling key of this device's failures. */
  deviceId: string;
  exp: number;
}

const b64url = (text: string) => btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
const unb64url = (text: string) => atob(text.replaceAll("-", "+").replaceAll("_", "/"));

export async function issueDeviceToken(secret: string, user: { id: number; credentialsVersion: number }): Promise<string> {
  const payload = b64url([user.id, user.credentialsVersion, randomHex(16), nowSeconds() + DEVICE_TOKEN_TTL_SECONDS].join("."));
  return `${VERSION}.${payload}.${await hmacSha256Hex(secret, LABEL + payload)}`;
}

/** The claims of a genuine, unexpired device token, or null (a forged, tampered or malformed one is simply ignored). */
export async function verifyDeviceToken(secret: string, token: string | undefined): Promise<DeviceClaims | null> {
  const [version, payload, signature, ...rest] = token?.split(".") ?? [];
  if (version !== VERSION || !payload || !signature || rest.length) return null;
  if (!(await verifyHmacSha256Hex(secret, LABEL + payload, signature))) return null;
  let fields: string[];
  try {
    fields = unb64url(payload).split(".");
  } catch {
    return null;
  }
  const [userId, credentialsVersion, exp] = [fields[0], fields[1], fields[3]].map(Number);
  const deviceId = fields[2];
  if (fields.length !== 4 || !Number.isSafeInteger(userId) || !Number.isSafeInteger(credentialsVersion) || !/^[0-9a-f]{32}$/.test(deviceId)) {
    return null;
  }
  if (!Number.isSafeInteger(exp) || exp <= nowSeconds()) return null;
  return { userId, credentialsVersion, deviceId, exp };
}

/** True when the device token belongs to this account as it is now (same user, credentials unchanged since). */
export const deviceTokenFits = (claims: DeviceClaims, account: { id: number; credentialsVersion: number } | undefined) =>
  !!account && account.id === claims.userId && account.credentialsVersion === claims.credentialsVersion;

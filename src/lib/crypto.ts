/** WebCrypto helpers: random ids, hashing, HMAC and constant-time comparison. */

const encoder = new TextEncoder();

export function toHex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export function randomHex(byteCount: number): string {
  return toHex(crypto.getRandomValues(new Uint8Array(byteCount)));
}

export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

function hmacKey(secret: string, usage: "sign" | "verify") {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
}

/** Lowercase hex HMAC-SHA256 of `message`. */
export async function hmacSha256Hex(secret: string, message: string | ArrayBuffer): Promise<string> {
  const data = typeof message === "string" ? encoder.encode(message) : message;
  return toHex(await crypto.subtle.sign("HMAC", await hmacKey(secret, "sign"), data));
}

/**
 * Checks a hex HMAC-SHA256 signature in constant time: `crypto.subtle.verify` compares with CRYPTO_memcmp
 * in workerd. Anything that is not exactly 64 hex characters is rejected before any comparison.
 */
export async function verifyHmacSha256Hex(secret: string, message: string | ArrayBuffer, signatureHex: string): Promise<boolean> {
  if (!/^[0-9a-fA-F]{64}$/.test(signatureHex)) return false;
  const signature = new Uint8Array(signatureHex.match(/../g)!.map((h) => parseInt(h, 16)));
  const data = typeof message === "string" ? encoder.encode(message) : message;
  return crypto.subtle.verify("HMAC", await hmacKey(secret, "verify"), signature, data);
}

/** Constant-time equality of two byte strings of any length (length itself is not secret here). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return crypto.subtle.timingSafeEqual(a, b);
}

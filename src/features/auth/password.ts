/**
 * Password hashing and rules. PBKDF2-SHA256 via WebCrypto with exactly 100,000 iterations: Cloudflare's
 * production runtime rejects more (local workerd does not), so a higher count would pass every test here and
 * break every login once deployed. Stored as `pbkdf2_sha256$iterations$salt$hash` (base64), like Django.
 */
import { timingSafeEqual } from "../../lib/crypto";

export const PBKDF2_ITERATIONS = 100_000;

const encoder = new TextEncoder();
const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const unb64 = (text: string) => Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, PBKDF2_ITERATIONS);
  return `pbkdf2_sha256$${PBKDF2_ITERATIONS}$${b64(salt)}$${b64(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [algorithm, iterations, salt, hash] = stored.split("$");
  const count = Number(iterations);
  if (algorithm !== "pbkdf2_sha256" || !Number.isInteger(count) || count < 1 || count > PBKDF2_ITERATIONS) return false;
  try {
    return timingSafeEqual(await derive(password, unb64(salt), count), unb64(hash));
  } catch {
    return false;
  }
}

/** A hash of a random password, verified on unknown usernames so that login takes the same time either way. */
export const DUMMY_HASH = "pbkdf2_sha256$100000$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

// The most common passwords of at least 8 characters (a short form of Django's CommonPasswordValidator list).
const COMMON_PASSWORDS = new Set(
  (
    "password password1 password12 password123 password1234 passw0rd p@ssw0rd p@ssword 12345678 123456789 1234567890 " +
    "qwertyuiop qwerty123 qwerty12 1q2w3e4r 1q2w3e4r5t 1qaz2wsx zaq12wsx iloveyou iloveyou1 sunshine princess " +
    "football baseball basketball superman batman123 starwars whatever trustno1 welcome1 welcome123 letmein1 " +
    "abcd1234 abc12345 abcdefgh asdfghjk asdfasdf qazwsxedc 11111111 00000000 88888888 87654321 12341234 " +
    "11223344 123123123 computer internet michelle jennifer jordan23 liverpool chelsea1 arsenal1 dragon12 " +
    "master12 monkey12 shadow12 charlie1 freedom1 changeme admin123 administrator secret12 mustang1 " +
    "access14 corvette mercedes ferrari1 samsung1 blink182 pokemon1 naruto12 minecraft fuckyou1 " +
    "testpass test1234 testing1 testtest qwertyui 1234qwer q1w2e3r4 asdf1234 zxcvbnm1 zxcvbnmm " +
    "google123 india123 iloveu123 hello123 welcome password! passw0rd! login123 guest123"
  ).split(" "),
);

/** Ratio of matching characters (longest common subsequence), like difflib's SequenceMatcher.ratio(). */
function similarity(a: string, b: string): number {
  if (!a.length || !b.length) return 0;
  const prev = new Array(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    let diag = 0;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = a[i - 1] === b[j - 1] ? diag + 1 : Math.max(prev[j], prev[j - 1]);
      diag = up;
    }
  }
  return (2 * prev[b.length]) / (a.length + b.length);
}

/**
 * Django's four default validators: minimum length 8, not entirely numeric, not common, not too similar (>= 0.7)
 * to the username or email (or their parts). Returns every failing message, as Django stacks them.
 */
export function passwordProblems(password: string, attributes: { username?: string; email?: string } = {}): string[] {
  const problems: string[] = [];
  const lower = password.toLowerCase();
  for (const [attribute, label] of [
    ["username", "username"],
    ["email", "email address"],
  ] as const) {
    const value = attributes[attribute]?.toLowerCase();
    if (!value) continue;
    const parts = [value, ...value.split(/\W+/)].filter((p) => p.length >= 3);
    if (parts.some((part) => similarity(lower, part) >= 0.7)) {
      problems.push(`The password is too similar to the ${label}.`);
      break;
    }
  }
  if (password.length < 8) problems.push("This password is too short. It must contain at least 8 characters.");
  if (COMMON_PASSWORDS.has(lower.trim())) problems.push("This password is too common.");
  if (/^\d+$/.test(password)) problems.push("This password is entirely numeric.");
  return problems;
}

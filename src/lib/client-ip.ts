/**
 * The client address for per-IP limits. In production it is `CF-Connecting-IP`, which Cloudflare sets on every
 * request it forwards (a client cannot choose it). Locally, `wrangler dev` sets it to the socket address (127.0.0.1)
 * on a request that sends none, and the test runner sends none at all: such requests are not held to the per-IP
 * limits of registration and unpaid holds, or `npm run dev`, the benchmarks and the tests of other features would trip
 * them. A request that sends the header locally is that address, which is how tests play several clients.
 */
import type { Context } from "hono";

/** The address to hold to per-IP limits, or null for a local request (no header, or a loopback address). */
export function limitedClientIp(c: Context): string | null {
  const ip = c.req.header("CF-Connecting-IP")?.trim().toLowerCase();
  if (!ip || isLoopback(ip)) return null;
  return ip;
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped IPv6 forms. */
export function isLoopback(ip: string): boolean {
  const v4 = ip.startsWith("::ffff:") ? ip.slice(7) : ip;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || /^(0{0,4}:){2,7}0{0,3}1$/.test(ip) || ip === "::1";
}

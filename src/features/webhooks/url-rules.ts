/**
 * Which URLs a webhook endpoint may have. The Worker POSTs to them, so an admin (or a stolen admin token) must not be
 * able to aim it at the network it runs in: https only, no credentials in the URL, no IP literal in a private,
 * loopback, link-local or otherwise special range, at most 2,048 characters. With WEBHOOKS_ALLOW_INSECURE_URLS=1
 * (local development) http:// and loopback hosts are allowed too, so a receiver on the developer's machine works.
 * Host names are not resolved here (Workers cannot); Cloudflare's own fetch refuses private addresses.
 */

export const MAX_URL_LENGTH = 2048;

/** The reason a URL is refused, or null when it is acceptable. */
export function urlProblem(value: string, allowInsecure: boolean): string | null {
  if (value.length > MAX_URL_LENGTH) return `Ensure this field has no more than ${MAX_URL_LENGTH} characters.`;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "Enter a valid URL.";
  }
  if (url.protocol !== "https:" && !(allowInsecure && url.protocol === "http:")) return "The URL must use https://.";
  if (url.username || url.password) return "The URL must not contain credentials.";
  const host = url.hostname.toLowerCase();
  const loopback = host === "localhost" || host.endsWith(".localhost") || isLoopbackIp(host);
  if (loopback) return allowInsecure ? null : "The URL must not point to a loopback address.";
  if (isSpecialIp(host)) return "The URL must not point to a private or reserved IP address.";
  return null;
}

function ipv4(host: string): number[] | null {
  const parts = host.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return parts.map(Number);
}

/** IPv6 literal (URL keeps the brackets) expanded to 8 groups, or null. */
function ipv6(host: string): number[] | null {
  if (!host.startsWith("[") || !host.endsWith("]")) return null;
  let text = host.slice(1, -1);
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (tail) {
    const v4 = ipv4(tail[1]);
    if (!v4) return null;
    text = text.slice(0, -tail[1].length) + `${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const [head, rest] = text.split("::");
  const left = head ? head.split(":") : [];
  const right = rest !== undefined && rest !== "" ? rest.split(":") : [];
  const missing = 8 - left.length - right.length;
  if (rest === undefined ? left.length !== 8 : missing < 0) return null;
  const groups = [...left, ...Array(rest === undefined ? 0 : missing).fill("0"), ...right].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}

function isLoopbackIp(host: string): boolean {
  const v4 = ipv4(host);
  if (v4) return v4[0] === 127;
  const v6 = ipv6(host);
  if (!v6) return false;
  if (v6.slice(0, 7).every((g) => g === 0) && v6[7] === 1) return true; // ::1
  return isMapped(v6) && v6[6] >> 8 === 127;
}

const isMapped = (g: number[]) => g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff;

function isSpecialV4([a, b]: number[]): boolean {
  return (
    a === 0 || a === 10 || a === 127 || a >= 224 || // this network, private, loopback, multicast and reserved
    (a === 100 && b >= 64 && b < 128) || // carrier-grade NAT
    (a === 169 && b === 254) || // link-local (cloud metadata services live here)
    (a === 172 && b >= 16 && b < 32) ||
    (a === 192 && b === 168) ||
    (a === 192 && b === 0) ||
    (a === 198 && (b === 18 || b === 19))
  );
}

function isSpecialIp(host: string): boolean {
  const v4 = ipv4(host);
  if (v4) return isSpecialV4(v4);
  // A hostname of digits and dots that is not four octets ("2130706433", "127.1") may still reach an address.
  if (/^[\d.]+$/.test(host) || /^0x/i.test(host)) return true;
  const v6 = ipv6(host);
  if (!v6) return host.startsWith("[");
  if (isMapped(v6)) return isSpecialV4([v6[6] >> 8, v6[6] & 0xff]);
  if (v6.every((g) => g === 0)) return true; // ::
  const first = v6[0];
  return (first & 0xfe00) === 0xfc00 || (first & 0xffc0) === 0xfe80 || (first & 0xff00) === 0xff00; // ULA, link-local, multicast
}

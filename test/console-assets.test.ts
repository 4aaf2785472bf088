/**
 * The shop console's static shell at /admin/ (built by scripts/build-console.mjs in pretest), as Workers static assets
 * serve it: the page's policy lets nothing but this origin run or connect, and the first load stays small.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";

const origin = "https://shop.test";
const get = (path: string) => env.ASSETS.fetch(new Request(`${origin}${path}`));

async function gzippedSize(res: Response): Promise<number> {
  const compressed = res.body!.pipeThrough(new CompressionStream("gzip"));
  return (await new Response(compressed).arrayBuffer()).byteLength;
}

describe("/admin/", () => {
  it("serves the console's shell with a CSP that allows only this origin, no inline script and no framing", async () => {
    const res = await get("/admin/");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/script-src 'self'(;|$)/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const shell = await res.text();
    // the shell holds no data and no inline script: every script comes from a file
    expect(shell).not.toMatch(/<script(?![^>]*\bsrc=)/);
  });

  it("loads at most 60 KB of JavaScript and CSS, gzipped, on first load", async () => {
    const shell = await (await get("/admin/")).text();
    const files = [...shell.matchAll(/(?:src|href)="([^"]+\.(?:js|css))"/g)].map((m) => m[1]);
    expect(files.sort()).toEqual(["app.css", "app.js"]);
    let total = 0;
    for (const file of files) {
      const res = await get(`/admin/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get("Content-Security-Policy")).toMatch(/default-src 'self'/);
      total += await gzippedSize(res);
    }
    expect(total).toBeLessThanOrEqual(60 * 1024);
  });
});

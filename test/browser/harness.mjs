// What every browser test shares: a `wrangler dev` of its own (free ports, its own storage, its own process group so
// the whole tree stops) and a headless Debian Chromium that cannot call home. Chromium comes from
// `apt-get install chromium`, or the binary in CHROMIUM_PATH.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { freePort } from "../../scripts/lib/free-port.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Serves the shop with `wrangler dev` on free ports and storage in a scratch folder (the developer's local D1 is left
 * alone). `prepare(state)` runs before the server starts (e.g. applying migrations); `args(origin)` adds wrangler
 * arguments such as `--var`. Resolves once /health answers.
 */
export async function startShop({ name, prepare, args = () => [] }) {
  const scratch = mkdtempSync(join(tmpdir(), `${name}-browser-`));
  const state = join(scratch, "state");
  await prepare?.(state);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = spawn(
    "wrangler",
    ["dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--persist-to", state,
      "--show-interactive-dev-session=false", ...args(origin)],
    { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, WRANGLER_SEND_METRICS: "false" } },
  );
  const shop = {
    origin,
    scratch,
    state,
    log: "",
    /** Polls `check` until it returns something truthy; fails with the server's output when it never does. */
    async waitFor(check, timeoutMs, what) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (server.exitCode !== null) throw new Error(`wrangler dev exited with ${server.exitCode}\n${shop.log}`);
        const value = await check().catch(() => undefined);
        if (value) return value;
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`${what}: nothing within ${timeoutMs} ms\n--- wrangler dev output ---\n${shop.log}`);
    },
    stop() {
      if (server.exitCode === null) {
        try {
          process.kill(-server.pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
      rmSync(scratch, { recursive: true, force: true });
    },
  };
  server.stdout.on("data", (d) => (shop.log += d));
  server.stderr.on("data", (d) => (shop.log += d));
  await shop.waitFor(async () => (await fetch(`${origin}/health`)).ok, 90_000, "GET /health");
  return shop;
}

/** Headless Chromium; the background-networking flags keep its own services from calling home on a closed network. */
export function launchChromium(scratch) {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    userDataDir: join(scratch, "profile"),
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/**
 * A `wrangler dev` of this Worker for a test run: its own free port, its own local state directory (fresh D1 with the
 * migrations applied, KV, Durable Objects), secrets passed as `--var`, so it never touches the state `npm run dev`
 * uses. `stop()` ends the process group it started and removes the state.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A TCP port nothing listens on right now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const wrangler = (args, persistTo) =>
  execFileSync("npx", ["--no-install", "wrangler", ...args, "--local", "--persist-to", persistTo], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, CI: "true" }, // answers wrangler's confirmation prompts
    encoding: "utf8",
  });

export async function startDevServer({ vars = {}, timeoutMs = 120_000 } = {}) {
  const persistTo = mkdtempSync(join(tmpdir(), "contract-state-"));
  wrangler(["d1", "migrations", "apply", "DB"], persistTo);
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const args = ["--no-install", "wrangler", "dev", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
  args.push("--persist-to", persistTo, "--show-interactive-dev-session=false", "--log-level", "warn");
  for (const [key, value] of Object.entries(vars)) args.push("--var", `${key}:${value}`);
  // Its own process group, so stop() ends wrangler and the workerd it starts, and nothing else.
  const child = spawn("npx", args, { detached: true, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CI: "true" } });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  const url = `http://127.0.0.1:${port}`;
  const stop = () => {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
    rmSync(persistTo, { recursive: true, force: true });
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    const ok = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    if (ok) {
      return {
        url,
        stop,
        log: () => log,
        /** Runs SQL on the server's local D1 (e.g. to make a registered user staff). */
        sql: (command) => wrangler(["d1", "execute", "DB", "--command", command], persistTo),
      };
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  stop();
  throw new Error(`wrangler dev did not become healthy at ${url}:\n${log.slice(-4000)}`);
}

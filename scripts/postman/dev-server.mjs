/**
 * A `wrangler dev` of this Worker for a test run: its own free port, its own local state directory (fresh D1 with the
 * migrations applied, KV, Durable Objects), the settings of .dev.vars.example plus the caller's in an env file, so it
 * never touches the state or the .dev.vars that `npm run dev` uses. `stop()` ends the process group it started and removes the state.
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

/**
 * The local settings `npm run dev` starts with on a fresh clone (it copies .dev.vars.example to .dev.vars): every
 * non-empty `KEY=value` of the example, so this server behaves the same whether or not the checkout has a .dev.vars.
 */
function exampleVars() {
  let text = "";
  try {
    text = readFileSync(".dev.vars.example", "utf8");
  } catch {
    return {};
  }
  const pairs = text.split("\n").map((line) => /^\s*([A-Z][A-Z0-9_]*)=(.+)$/.exec(line)).filter(Boolean);
  return Object.fromEntries(pairs.map(([, key, value]) => [key, value.trim().replace(/^"(.*)"$/, "$1")]));
}

/** The arguments `npm run dev` gives `wrangler dev` (e.g. the config files), so this server is the one people run. */
function devScriptArgs() {
  const dev = JSON.parse(readFileSync("package.json", "utf8")).scripts?.dev ?? "";
  const match = /^\s*wrangler\s+dev\b(.*)$/.exec(dev);
  return match ? match[1].trim().split(/\s+/).filter(Boolean) : [];
}

export async function startDevServer({ vars = {}, timeoutMs = 120_000 } = {}) {
  // What `npm run dev` prepares first (docs assets, generated configuration), so the server is the one people run.
  execFileSync("npm", ["run", "--silent", "--if-present", "predev"], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, CI: "true" } });
  const persistTo = mkdtempSync(join(tmpdir(), "contract-state-"));
  wrangler(["d1", "migrations", "apply", "DB"], persistTo);
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const args = ["--no-install", "wrangler", "dev", ...devScriptArgs(), "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort)];
  args.push("--persist-to", persistTo, "--show-interactive-dev-session=false", "--log-level", "warn");
  // An env file rather than `--var`: wrangler gives it to every Worker of the session (`--var` reaches only the first
  // one when the dev script names several configurations), and with it .dev.vars is not read.
  const envFile = join(persistTo, "contract.env");
  const settings = Object.entries({ ...exampleVars(), ...vars }).map(([key, value]) => `${key}=${JSON.stringify(String(value))}`);
  writeFileSync(envFile, `${settings.join("\n")}\n`);
  args.push("--env-file", envFile);
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

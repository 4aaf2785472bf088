/**
 * A `wrangler dev` of this Worker for a test run: its own free port, its own local state directory (fresh D1 with the
 * migrations applied, Durable Objects), the settings of .dev.vars.example plus the caller's (in .dev.vars for the
 * length of the run, then the previous file is put back), so it leaves the state `npm run dev` uses alone. `stop()` ends the process group it started and removes the state.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../lib/free-port.mjs";

/**
 * Writes `settings` as .dev.vars and returns the function that puts the previous file back (or removes it), which
 * also runs if the process ends or is interrupted first.
 */
function swapDevVars(settings) {
  const previous = existsSync(".dev.vars") ? readFileSync(".dev.vars", "utf8") : null;
  const lines = Object.entries(settings).map(([key, value]) => `${key}=${JSON.stringify(String(value))}`);
  writeFileSync(".dev.vars", `# Written by test:contract while it runs; the previous file comes back when it ends.\n${lines.join("\n")}\n`);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    if (previous === null) rmSync(".dev.vars", { force: true });
    else writeFileSync(".dev.vars", previous);
  };
  process.once("exit", restore);
  for (const signal of ["SIGINT", "SIGTERM"]) {
    process.once(signal, () => {
      restore();
      process.exit(130);
    });
  }
  return restore;
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
  // The settings go in .dev.vars for the run, the one file every Worker of the session reads (`--var` and
  // `--env-file` reach only the first when the dev script names several configurations); the file is put back after.
  const restoreDevVars = swapDevVars({ ...exampleVars(), ...vars });
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
    restoreDevVars();
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

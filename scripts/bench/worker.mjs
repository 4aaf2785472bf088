// Starts and stops a local `wrangler dev` on fresh state for the benchmark.
// Every child is spawned in its own process group; `stopAll()` kills the groups (also on errors and signals).
import { spawn, execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../lib/free-port.mjs";

export const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
export const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const children = new Set();

/** Runs a command to completion in its own process group; rejects with its output on failure. */
export function run(cmd, args, { timeoutMs = 600_000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { cwd: ROOT, env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", ...env }, maxBuffer: 64 << 20, timeout: timeoutMs, killSignal: "SIGKILL", detached: true },
      (err, stdout, stderr) => {
        children.delete(child);
        if (err) reject(new Error(`${cmd} ${args.join(" ")} failed: ${err.message}\n${stderr.slice(-2000)}${stdout.slice(-2000)}`));
        else resolve(stdout);
      },
    );
    children.add(child);
  });
}

/** .dev.vars is git-ignored; a fresh clone has only the example (as scripts/prepare-local.mjs does for `npm run dev`). */
export function ensureDevVars() {
  if (!existsSync(join(ROOT, ".dev.vars"))) {
    copyFileSync(join(ROOT, ".dev.vars.example"), join(ROOT, ".dev.vars"));
    console.log("Created .dev.vars from .dev.vars.example");
  }
}

/** A new, empty persist dir with the D1 migrations applied. */
export async function freshState(label) {
  const dir = mkdtempSync(join(tmpdir(), `edge-shop-bench-${label}-`));
  await run(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", dir]);
  return dir;
}

export function removeState(dir) {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    /* best effort */
  }
}

/** D1 statements against the persist dir (only while no `wrangler dev` uses it, to keep one writer). */
export function d1Execute(dir, args) {
  return run(WRANGLER, ["d1", "execute", "DB", "--local", "--persist-to", dir, ...args]);
}

/**
 * `wrangler dev` on a free loopback port (and a free inspector port, so parallel dev servers do not clash),
 * serving `dir`, with extra `vars` (`--var NAME:VALUE`, the first Worker's only). Resolves once GET /health answers 200.
 */
export async function startWorker(dir, { vars = {}, configs = [], extraArgs = [] } = {}) {
  const port = await freePort();
  const inspectorPort = await freePort();
  // `configs`: several Workers in one `wrangler dev` (the first serves the port), e.g. the edge and the data Worker.
  const args = ["dev", ...configs.flatMap((config) => ["-c", config]), "--port", String(port), "--ip", "127.0.0.1", "--inspector-port", String(inspectorPort), "--persist-to", dir, "--log-level", "warn", "--show-interactive-dev-session=false"];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  args.push(...extraArgs);
  const child = spawn(WRANGLER, args, {
    cwd: ROOT,
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false", BROWSER: "none" },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // own process group: wrangler + its two workerd processes die together
  });
  children.add(child);
  let log = "";
  const keep = (chunk) => {
    log = (log + chunk).slice(-20_000);
  };
  child.stdout.on("data", keep);
  child.stderr.on("data", keep);
  let exited = null;
  child.on("exit", (code, signal) => {
    exited = { code, signal };
    children.delete(child);
  });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`wrangler dev exited (${JSON.stringify(exited)}):\n${log}`);
    try {
      const res = await fetch(`${base}/health`, { signal: AbortSignal.timeout(2000) });
      if (res.status === 200) return { base, port, child, log: () => log, stop: () => stopChild(child) };
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  stopChild(child);
  throw new Error(`wrangler dev did not answer /health within 90 s:\n${log}`);
}

function killGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      /* gone */
    }
  }
}

/** SIGTERM the child's process group, SIGKILL it if it is still there after 3 s. */
export function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      killGroup(child, "SIGKILL"); // grandchildren may outlive the leader
      children.delete(child);
      return resolve();
    }
    const timer = setTimeout(() => {
      killGroup(child, "SIGKILL");
      resolve();
    }, 3000);
    child.once("exit", () => {
      clearTimeout(timer);
      killGroup(child, "SIGKILL");
      resolve();
    });
    killGroup(child, "SIGTERM");
  });
}

/** Synchronous last resort (process 'exit' handler): SIGKILL every group we started. */
export function killAllSync() {
  for (const child of children) killGroup(child, "SIGKILL");
  children.clear();
}

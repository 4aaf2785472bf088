// Load generation with autocannon (programmatic API), and a small fetch helper for setup calls.
import autocannon from "autocannon";
import { loadavg } from "node:os";

export const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
export const DURATION_S = Number(process.env.BENCH_DURATION ?? 6);
export const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 1);

function runAutocannon(opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ timeout: 30, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
    instance.on("error", reject);
  });
}

/** One row of the results table from an autocannon result. */
export function summarize(name, result, extra = {}) {
  const ok = result["2xx"];
  const total = result.requests.total ?? ok + result.non2xx;
  // Requests still in flight when a timed run ended (normally one per connection; all of them if nothing finished).
  const unfinished = Math.max(0, (result.requests.sent ?? total) - total - result.errors - result.timeouts);
  return {
    name,
    rps: result.duration > 0 ? Math.round((total / result.duration) * 10) / 10 : 0,
    ok_rps: result.duration > 0 ? Math.round((ok / result.duration) * 10) / 10 : 0,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    requests: total,
    ok,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    unfinished,
    loadavg_1m: Math.round(loadavg()[0] * 100) / 100,
    status_codes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count])),
    duration_s: result.duration,
    connections: result.connections,
    ...extra,
  };
}

/**
 * A timed case: `requests` is autocannon's request list (setupRequest may rotate ids/tokens). A short warm-up run
 * first (JIT, Durable Object instantiation, SQLite page cache), then the measured run.
 */
export async function measure(name, base, { path = "/", method = "GET", headers = {}, body, requests, connections = CONNECTIONS, duration = DURATION_S, amount, warmup = WARMUP_S, extra } = {}) {
  const opts = { url: base + path, method, headers, body, requests, connections: amount ? Math.min(connections, amount) : connections };
  if (warmup > 0 && !amount) await runAutocannon({ ...opts, duration: warmup });
  const result = await runAutocannon(amount ? { ...opts, amount } : { ...opts, duration });
  const row = summarize(name, result, extra);
  await drain(base);
  return row;
}

/**
 * Waits until the Worker is idle again (requests cut off at the end of a case may still be running inside it), so
 * one case's backlog does not slow the next: /health must answer within 100 ms three times in a row (at most 90 s).
 */
export async function drain(base) {
  const deadline = Date.now() + 90_000;
  let fast = 0;
  while (fast < 3 && Date.now() < deadline) {
    const started = Date.now();
    try {
      await fetch(`${base}/health`, { signal: AbortSignal.timeout(10_000) });
      fast = Date.now() - started < 100 ? fast + 1 : 0;
    } catch {
      fast = 0;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** JSON fetch with a clear error on unexpected status. */
export async function api(base, path, { method = "GET", token, body, expect = [200, 201], headers = {} } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: { ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (expect && !expect.includes(res.status)) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 300)}`);
  return { status: res.status, data };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}

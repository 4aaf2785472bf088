// What the hop to the data Worker costs locally (issue 24): checkout req/s under `wrangler dev`, before (one Worker
// runs the write itself: wrangler.toml alone) and after (the edge Worker forwards it to the data Worker through its
// DATA binding: wrangler.edge.jsonc + wrangler.toml in one `wrangler dev`). Both servers run side by side, each on
// fresh state, and the rounds alternate (before, after, after, before, ...) so the machine's drifting load hits both
// alike. Each side first runs one unmeasured warm-up round (JIT, objects, SQLite caches). A round: ROUND_ORDERS users
// with one line in the cart, one checkout each, CONNECTIONS at a time. Per round: req/s (checkouts over the wall time
// from the first request to the last response, timed here: autocannon's own duration only ends on its next whole-second
// tick, which made a 2 to 3 s round read 75 or 50 req/s and nothing between), latency, and the CPU time of the server's
// processes (wrangler and its workerd processes, from /proc) per checkout, in total and for the workerd that runs the
// Workers alone. `wrangler dev` also streams a trace of every Worker invocation to its local observability collector (on
// by default), so the hop's second invocation is traced too; `X_LOCAL_OBSERVABILITY=false npm run bench:hop` turns that
// off for both servers, to see the hop without it.
// Then the hop alone, in the "after" server: a write answered at the edge against one forwarded, both failing fast.
// `npm run bench:hop`; BENCH_HOP_ROUNDS (9), BENCH_HOP_ORDERS (300), BENCH_HOP_CONNECTIONS (10), BENCH_HOP_REQUESTS (2000).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";
import autocannon from "autocannon";
import { api, drain, pool } from "./bench/load.mjs";
import { d1Execute, ensureDevVars, freshState, removeState, ROOT, startWorker } from "./bench/worker.mjs";

const ROUNDS = Number(process.env.BENCH_HOP_ROUNDS ?? 9);
const ROUND_ORDERS = Number(process.env.BENCH_HOP_ORDERS ?? 300);
const CONNECTIONS = Number(process.env.BENCH_HOP_CONNECTIONS ?? 10);
const HOP_REQUESTS = Number(process.env.BENCH_HOP_REQUESTS ?? 2000);
const PASSWORD = "Bench-Passw0rd!";
const PRODUCTS = 10;
const log = (msg) => console.log(`[bench:hop ${new Date().toISOString().slice(11, 19)}] ${msg}`);

const sides = [
  { name: "before (one Worker, no hop)", label: "hop-before", configs: [] },
  { name: "after (edge -> DATA -> data Worker)", label: "hop-after", configs: ["wrangler.edge.jsonc", "wrangler.toml"] },
];

async function prepare(side) {
  side.dir = await freshState(side.label);
  const values = Array.from({ length: PRODUCTS }, (_, i) => `('Hop Lamp ${i}', 'hop-lamp-${i}', 'A lamp', 49900, 1000000, 1)`).join(", ");
  await d1Execute(side.dir, [
    "--command",
    "INSERT INTO categories (name, slug) VALUES ('Hop', 'hop'); " +
      `INSERT INTO products (category_id, name, slug, description, price_paise, stock, is_active) SELECT c.id, v.* FROM categories c, (VALUES ${values}) v WHERE c.slug = 'hop';`,
  ]);
  side.worker = await startWorker(side.dir, { configs: side.configs });
  const { base } = side.worker;
  log(`${side.name}: up at ${base}`);
  side.products = (await api(base, `/api/products/?page_size=${PRODUCTS}`)).data.results.map((p) => p.id);
  const ids = Array.from({ length: (ROUNDS + 1) * ROUND_ORDERS }, (_, i) => i); // + the warm-up round
  side.tokens = await pool(ids, 8, async (i) => {
    const username = `hop_${i}`;
    const { data } = await api(base, "/api/auth/register/", { method: "POST", body: { username, email: `${username}@example.com`, password: PASSWORD, password2: PASSWORD } });
    return data.tokens.access;
  });
  log(`${side.name}: ${side.tokens.length} users, ${side.products.length} products`);
  side.rounds = [];
}

/** Round `r` (0 = the warm-up, not counted) of `side`: fill ROUND_ORDERS carts, then time their checkouts. */
async function round(side, r) {
  const { base } = side.worker;
  const tokens = side.tokens.slice(r * ROUND_ORDERS, (r + 1) * ROUND_ORDERS);
  await pool(tokens, 8, (token, i) => api(base, "/api/cart/add/", { method: "POST", token, body: { product_id: side.products[i % side.products.length], quantity: 1 } }));
  await drain(base);
  let next = 0;
  const cpuBefore = groupCpu(side.worker.child.pid);
  const { seconds, result } = await timedRun({
    url: base + "/api/orders/create_order/",
    requests: [
      {
        method: "POST",
        body: JSON.stringify({ shipping_address: "12 Bench Street, Bengaluru 560001" }),
        headers: { "content-type": "application/json" },
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++]}` } }),
      },
    ],
    amount: ROUND_ORDERS,
    connections: Math.min(CONNECTIONS, ROUND_ORDERS),
  });
  // Until the server is idle again: work a checkout leaves behind (waitUntil) is its cost too; the few idle /health
  // checks of the drain are a small, equal share on both sides.
  await drain(base);
  const cpu = groupCpu(side.worker.child.pid);
  const perOrder = (ms) => Math.round((ms / ROUND_ORDERS) * 10) / 10;
  const created = result.statusCodeStats?.["201"]?.count ?? 0;
  const row = {
    rps: Math.round((ROUND_ORDERS / seconds) * 10) / 10,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    cpu_ms: perOrder(cpu.total - cpuBefore.total),
    runtime_cpu_ms: perOrder(cpu.runtime - cpuBefore.runtime),
    created,
  };
  const name = r === 0 ? `${side.name}, warm-up` : `${side.name}, round ${r}`;
  log(`  ${name}: ${row.rps} req/s (${seconds.toFixed(2)} s), p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, CPU per checkout ${row.cpu_ms} ms (the Workers' workerd ${row.runtime_cpu_ms} ms), 201 x ${created} of ${ROUND_ORDERS}, load ${loadavg()[0].toFixed(2)}`);
  if (created !== ROUND_ORDERS) throw new Error(`${name}: only ${created} of ${ROUND_ORDERS} checkouts answered 201: ${JSON.stringify(result.statusCodeStats)}`);
  if (r > 0) side.rounds.push(row);
}

/** An autocannon run of `amount` requests, timed from its start to its last response. */
function timedRun(opts) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let last = started;
    const instance = autocannon({ timeout: 30, ...opts }, (err, result) => (err ? reject(err) : resolve({ seconds: (last - started) / 1000, result })));
    instance.on("response", () => {
      last = performance.now();
    });
    instance.on("error", reject);
  });
}

/**
 * CPU time (ms) used so far by every process of a `wrangler dev` group (wrangler, esbuild, its two workerd processes),
 * from /proc; `runtime` is the workerd that runs the Workers (the one with an inspector; the other is wrangler's proxy).
 */
function groupCpu(pgid) {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  let runtime = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue; // pgrp
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / tick; // utime + stime
      total += ms;
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("--inspector-addr")) runtime += ms;
    } catch {
      /* gone */
    }
  }
  return { total, runtime };
}

/**
 * The hop alone, in one server (the "after" one, same state, same load): CPU per request of a write answered at the
 * edge (token refresh with a bad token: 401 there) against one forwarded to the data Worker (create_order without a
 * token: 401 there). Both fail fast, so the difference is the hop's own cost: the edge's forwarding and a second
 * Worker invocation. HOP_REQUESTS each, alternating, three times.
 */
async function hopAlone(side) {
  const { base } = side.worker;
  const cases = [
    { name: "answered at the edge", path: "/api/auth/token/refresh/", body: JSON.stringify({ refresh: "not-a-token" }), cpu: [] },
    { name: "forwarded to the data Worker", path: "/api/orders/create_order/", body: JSON.stringify({ shipping_address: "12 Bench Street" }), cpu: [] },
  ];
  for (let rep = 0; rep < 3; rep++)
    for (const c of rep % 2 === 0 ? cases : [...cases].reverse()) {
      await drain(base);
      const before = groupCpu(side.worker.child.pid);
      const { result } = await timedRun({ url: base + c.path, method: "POST", body: c.body, headers: { "content-type": "application/json" }, amount: HOP_REQUESTS, connections: CONNECTIONS });
      await drain(base);
      const after = groupCpu(side.worker.child.pid);
      if ((result.statusCodeStats?.["401"]?.count ?? 0) !== HOP_REQUESTS) throw new Error(`${c.name}: expected ${HOP_REQUESTS} x 401, got ${JSON.stringify(result.statusCodeStats)}`);
      c.cpu.push({ total: (after.total - before.total) / HOP_REQUESTS, runtime: (after.runtime - before.runtime) / HOP_REQUESTS });
    }
  const ms = (xs) => xs.map((x) => x.toFixed(2)).join(", ");
  console.log(`\nThe hop alone (one server, ${HOP_REQUESTS} failing writes per round, 3 rounds each): CPU ms per request, total (the Workers' workerd)`);
  for (const c of cases) console.log(`- ${c.name}: ${ms(c.cpu.map((x) => x.total))} (${ms(c.cpu.map((x) => x.runtime))})`);
  const [edge, hop] = cases.map((c) => ({ total: mean(c.cpu.map((x) => x.total)), runtime: mean(c.cpu.map((x) => x.runtime)) }));
  console.log(`- the hop adds (means): ${(hop.total - edge.total).toFixed(2)} ms per request (${(hop.runtime - edge.runtime).toFixed(2)} ms in the Workers' workerd)`);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const round1 = (x) => Math.round(x * 10) / 10;

ensureDevVars();
execFileSync(process.execPath, ["scripts/edge-config.mjs"], { cwd: ROOT, stdio: "inherit" });
const loadAtStart = loadavg().map((x) => x.toFixed(2)).join(", ");
try {
  for (const side of sides) await prepare(side);
  for (let r = 0; r <= ROUNDS; r++) for (const side of r % 2 === 0 ? sides : [...sides].reverse()) await round(side, r);
  console.log(`\n${ROUNDS} rounds of ${ROUND_ORDERS} checkouts per side, ${CONNECTIONS} connections; load average at start ${loadAtStart}, at end ${loadavg().map((x) => x.toFixed(2)).join(", ")}`);
  console.log("\n| side | req/s per round | median req/s | mean req/s | p50 ms (median) | CPU ms per checkout: median (mean) | of it the Workers' workerd |\n|---|---|---:|---:|---:|---:|---:|");
  for (const side of sides) {
    const m = (key) => median(side.rounds.map((x) => x[key]));
    const avg = (key) => round1(mean(side.rounds.map((x) => x[key])));
    console.log(`| ${side.name} | ${side.rounds.map((x) => x.rps).join(", ")} | ${m("rps")} | ${avg("rps")} | ${m("p50_ms")} | ${m("cpu_ms")} (${avg("cpu_ms")}) | ${m("runtime_cpu_ms")} (${avg("runtime_cpu_ms")}) |`);
  }
  const [before, after] = sides;
  const pct = (a, b) => `${((a / b) * 100).toFixed(1)} %`;
  const pairs = before.rounds.map((x, i) => after.rounds[i].rps / x.rps);
  console.log(`\nafter / before req/s: median ${pct(median(after.rounds.map((x) => x.rps)), median(before.rounds.map((x) => x.rps)))}, mean ${pct(mean(after.rounds.map((x) => x.rps)), mean(before.rounds.map((x) => x.rps)))}, median of the per-round ratios ${(median(pairs) * 100).toFixed(1)} % (target: at least 90 %)`);
  console.log(`CPU per checkout after / before: median ${pct(median(after.rounds.map((x) => x.cpu_ms)), median(before.rounds.map((x) => x.cpu_ms)))}, mean ${pct(mean(after.rounds.map((x) => x.cpu_ms)), mean(before.rounds.map((x) => x.cpu_ms)))}`);
  await hopAlone(after);
} finally {
  for (const side of sides) {
    await side.worker?.stop();
    if (side.dir) removeState(side.dir);
  }
}

// What the hop to the data Worker costs locally (issue 24): checkout req/s under `wrangler dev`, before (one Worker
// runs the write itself: wrangler.toml alone) and after (the edge Worker forwards it to the data Worker through its
// DATA binding: wrangler.edge.jsonc + wrangler.toml in one `wrangler dev`). Both servers run side by side, each on
// fresh state, and the rounds alternate (before, after, before, ...) so the machine's drifting load hits both alike.
// A round: ROUND_ORDERS users with one line in the cart, one checkout each, CONNECTIONS at a time. Per round: req/s,
// latency, and the CPU time of the server's processes (wrangler and its workerd processes, from /proc) per checkout.
// `npm run bench:hop`; BENCH_HOP_ROUNDS (3), BENCH_HOP_ORDERS (150), BENCH_HOP_CONNECTIONS (10).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { api, measure, pool } from "./bench/load.mjs";
import { d1Execute, ensureDevVars, freshState, removeState, ROOT, startWorker } from "./bench/worker.mjs";

const ROUNDS = Number(process.env.BENCH_HOP_ROUNDS ?? 3);
const ROUND_ORDERS = Number(process.env.BENCH_HOP_ORDERS ?? 150);
const CONNECTIONS = Number(process.env.BENCH_HOP_CONNECTIONS ?? 10);
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
  const ids = Array.from({ length: ROUNDS * ROUND_ORDERS }, (_, i) => i);
  side.tokens = await pool(ids, 8, async (i) => {
    const username = `hop_${i}`;
    const { data } = await api(base, "/api/auth/register/", { method: "POST", body: { username, email: `${username}@example.com`, password: PASSWORD, password2: PASSWORD } });
    return data.tokens.access;
  });
  log(`${side.name}: ${side.tokens.length} users, ${side.products.length} products`);
  side.rounds = [];
}

async function round(side, r) {
  const { base } = side.worker;
  const tokens = side.tokens.slice(r * ROUND_ORDERS, (r + 1) * ROUND_ORDERS);
  await pool(tokens, 8, (token, i) => api(base, "/api/cart/add/", { method: "POST", token, body: { product_id: side.products[i % side.products.length], quantity: 1 } }));
  let next = 0;
  const cpuBefore = groupCpuMs(side.worker.child.pid);
  const row = await measure(`${side.name}, round ${r + 1}`, base, {
    requests: [
      {
        method: "POST",
        path: "/api/orders/create_order/",
        body: JSON.stringify({ shipping_address: "12 Bench Street, Bengaluru 560001" }),
        headers: { "content-type": "application/json" },
        setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++]}` } }),
      },
    ],
    amount: ROUND_ORDERS,
    connections: CONNECTIONS,
  });
  const created = row.status_codes?.["201"] ?? 0;
  // Includes the drain after the round (idle /health checks): a small, equal share on both sides.
  const cpuPerOrder = Math.round(((groupCpuMs(side.worker.child.pid) - cpuBefore) / ROUND_ORDERS) * 10) / 10;
  log(`  ${row.name}: ${row.rps} req/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, ${cpuPerOrder} ms CPU per checkout (wrangler + workerd), 201 x ${created} of ${ROUND_ORDERS}`);
  side.rounds.push({ rps: row.rps, p50_ms: row.p50_ms, p99_ms: row.p99_ms, cpu_ms: cpuPerOrder, created });
}

/** CPU time (ms) used so far by every process of a `wrangler dev` group (wrangler, its workerd processes), from /proc. */
function groupCpuMs(pgid) {
  const tick = 100; // USER_HZ on Linux
  let total = 0;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(fields[2]) !== pgid) continue; // pgrp
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / tick; // utime + stime
    } catch {
      /* gone */
    }
  }
  return total;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

ensureDevVars();
execFileSync(process.execPath, ["scripts/edge-config.mjs"], { cwd: ROOT, stdio: "inherit" });
try {
  for (const side of sides) await prepare(side);
  for (let r = 0; r < ROUNDS; r++) for (const side of r % 2 === 0 ? sides : [...sides].reverse()) await round(side, r);
  const [before, after] = sides.map((side) => median(side.rounds.map((x) => x.rps)));
  console.log("\n| side | req/s per round | median req/s | p50 ms (median) | CPU ms per checkout (median) |\n|---|---|---:|---:|---:|");
  for (const side of sides) {
    const m = (key) => median(side.rounds.map((x) => x[key]));
    console.log(`| ${side.name} | ${side.rounds.map((x) => x.rps).join(", ")} | ${m("rps")} | ${m("p50_ms")} | ${m("cpu_ms")} |`);
  }
  console.log(`\nafter / before: ${((after / before) * 100).toFixed(1)} % (target: at least 90 %)`);
} finally {
  for (const side of sides) {
    await side.worker?.stop();
    if (side.dir) removeState(side.dir);
  }
}

// `npm run bench`: the load benchmark of issue #8. Not a test; never part of `npm test`.
//
// For each catalogue scale (1,000 and 100,000 products) it starts the Worker with `wrangler dev` on a free loopback
// port over a fresh temporary persist dir (migrations applied, seeded with `npm run seed`), drives load from this
// process with autocannon, and stops everything it started. Prints a Markdown table and writes bench/results.json and
// bench/results.md. See README, "Benchmarks".
//
// Knobs (environment): BENCH_SCALES=1000,100000  BENCH_CONNECTIONS=50  BENCH_DURATION=6 (s per case)
// BENCH_WARMUP=1 (s)  BENCH_CATALOGUE_ONLY=1 (list/detail/search only)  BENCH_STORM_USERS=1000  BENCH_STORM_STOCK=100  BENCH_ORDER_USERS=400  BENCH_SEED_ORDERS=500
// BENCH_WEBHOOKS_ONLY=1 (only "1,000 events fanned out to 3 endpoints", scripts/bench/webhooks.mjs)  BENCH_WEBHOOKS=0 (without it)
// BENCH_COST_ONLY=1 (only the cost table, no load)  BENCH_COST=0 (no cost table)  BENCH_DO_ACTIVE_MS=10
import { execFileSync } from "node:child_process";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, totalmem, loadavg } from "node:os";
import { join } from "node:path";
import { checkBudget, DO_ACTIVE_MS, LATENCY_MS, measureCosts, PRICES } from "./bench/cost.mjs";
import { api, CONNECTIONS, DURATION_S, measure, pool, WARMUP_S } from "./bench/load.mjs";
import { renderMarkdown } from "./bench/report.mjs";
import { benchWebhooks } from "./bench/webhooks.mjs";
import { seed } from "./bench/seed.mjs";
import { d1Execute, ensureDevVars, freshState, killAllSync, removeState, ROOT, startWorker, stopChild } from "./bench/worker.mjs";

const SCALES = (process.env.BENCH_SCALES ?? "1000,100000").split(",").map(Number).filter((n) => n > 0);
const STORM_USERS = Number(process.env.BENCH_STORM_USERS ?? 1000);
const STORM_STOCK = Number(process.env.BENCH_STORM_STOCK ?? 100);
const ORDER_USERS = Math.min(Number(process.env.BENCH_ORDER_USERS ?? 400), STORM_USERS);
const SEED_ORDERS = Number(process.env.BENCH_SEED_ORDERS ?? 500);
// Orders seeded at the largest scale, where the analytics dashboard is measured again (issue: 100,000 orders).
const LARGE_ORDERS = Number(process.env.BENCH_LARGE_ORDERS ?? 100000);
const REGISTER_CONCURRENCY = 8;
const CATALOGUE_ONLY = process.env.BENCH_CATALOGUE_ONLY === "1"; // skip users, cart, orders, storm, analytics
const COST_ONLY = process.env.BENCH_COST_ONLY === "1"; // the cost table alone: no load cases
const COST = COST_ONLY || process.env.BENCH_COST !== "0";
const TIME_LIMIT_MS = Number(process.env.BENCH_TIME_LIMIT_S ?? 900) * 1000;

const ADMIN = { username: "bench_admin", email: "bench_admin@example.com", password: "Bench-Admin-Passw0rd!" };
const USER_PASSWORD = "Quiet-Harbour-7391!";

const startedAt = Date.now();
const log = (msg) => console.log(`[bench ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(4)}s] ${msg}`);

// ---- cleanup: whatever happens, the wrangler process groups go away ----
let tempDirs = [];
process.on("exit", () => {
  killAllSync();
  for (const dir of tempDirs) removeState(dir);
});
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    console.error(`\nbench: ${signal}, stopping the Worker`);
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  console.error(`bench: time limit of ${TIME_LIMIT_MS / 1000} s reached, stopping`);
  process.exit(2);
}, TIME_LIMIT_MS);
watchdog.unref();

// ---- setup helpers ----

/** A staff user straight into D1 (same hash format as scripts/create-admin.mjs), before the Worker starts. */
async function insertAdmin(dir) {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(ADMIN.password, salt, 100_000, 32, "sha256");
  const stored = `pbkdf2_sha256$100000$${salt.toString("base64")}$${hash.toString("base64")}`;
  await d1Execute(dir, ["--command", `INSERT INTO users (username, email, password_hash, is_staff) VALUES ('${ADMIN.username}', '${ADMIN.email}', '${stored}', 1)`]);
}

async function login(base, username, password) {
  return (await api(base, "/api/auth/login/", { method: "POST", body: { username, password } })).data.access;
}

/** Registers `count` users through the API (PBKDF2 per user, so bounded concurrency); returns their access tokens. */
async function registerUsers(base, count, prefix) {
  const ids = Array.from({ length: count }, (_, i) => i);
  return pool(ids, REGISTER_CONCURRENCY, async (i) => {
    const username = `${prefix}${i}`;
    const { data } = await api(base, "/api/auth/register/", {
      method: "POST",
      body: { username, email: `${username}@example.com`, password: USER_PASSWORD, password2: USER_PASSWORD, first_name: "Bench", last_name: `User${i}` },
    });
    return data.tokens.access;
  });
}

const addToCart = (base, token, productId, quantity = 1) => api(base, "/api/cart/add/", { method: "POST", token, body: { product_id: productId, quantity } });

/** Product ids and the words of product names, from the catalogue as the API shows it (whatever the seeder made). */
async function sampleCatalogue(base) {
  const ids = new Set();
  const words = new Map();
  const codes = [];
  for (const query of ["page_size=100", "page_size=100&ordering=price", "page_size=100&ordering=name"]) {
    const { data } = await api(base, `/api/products/?${query}`);
    for (const p of data.results) {
      ids.add(p.id);
      for (const w of p.name.toLowerCase().split(/[^a-z0-9]+/)) {
        if (/^[a-z]{4,}$/.test(w)) words.set(w, (words.get(w) ?? 0) + 1);
        else if (/^[a-z]\d{2,}$/.test(w) && w.length >= 3) codes.push(w); // model codes such as "k512"
      }
    }
  }
  return { ids: [...ids], words: [...words.entries()].sort((a, b) => b[1] - a[1]).map(([w]) => w), codes: [...new Set(codes)] };
}

/**
 * Search words, unless BENCH_SEARCH_COMMON / BENCH_SEARCH_RARE say otherwise: the common word is the name word
 * (what shoppers type) with the most matches among the most frequent ones in the sample; the rare word is the
 * candidate (model codes included) with the fewest matches, at least one.
 */
async function pickSearchWords(base, sample) {
  const counts = [];
  for (const word of [...sample.words.slice(0, 12), ...sample.codes.slice(0, 8)]) {
    const count = await searchCount(base, word);
    if (count > 0) counts.push({ word, count });
  }
  counts.sort((a, b) => b.count - a.count);
  return { common: process.env.BENCH_SEARCH_COMMON ?? counts[0].word, rare: process.env.BENCH_SEARCH_RARE ?? counts[counts.length - 1].word };
}

/** Matches of one search (null if the API did not answer within 60 s). */
async function searchCount(base, word) {
  try {
    return (await api(base, `/api/products/?search=${encodeURIComponent(word)}&page_size=1`)).data.count;
  } catch (err) {
    console.error(`  count of "${word}" failed: ${err.message}`);
    return null;
  }
}

/** autocannon request list that sends each request with the next token of `tokens` (one distinct user each). */
function rotatingTokens(tokens, { method = "GET", path, body }) {
  let next = 0;
  return [
    {
      method,
      path,
      body,
      headers: body ? { "content-type": "application/json" } : {},
      setupRequest: (req) => {
        req.headers = { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` };
        return req;
      },
    },
  ];
}

function rotatingPaths(paths) {
  let next = 0;
  return [
    {
      method: "GET",
      setupRequest: (req) => {
        req.path = paths[next++ % paths.length];
        return req;
      },
    },
  ];
}

/** Every request a URL never seen before (`&_bench=N`, ignored by the API), so a URL-keyed cache always misses. */
function distinctUrls(path) {
  let next = 0;
  const sep = path.includes("?") ? "&" : "?";
  return [
    {
      method: "GET",
      setupRequest: (req) => {
        req.path = `${path}${sep}_bench=${Date.now().toString(36)}-${next++}`;
        return req;
      },
    },
  ];
}

// ---- one scale ----

async function runScale(products, { first, full, words, analyticsOrders = 0 }) {
  const label = `${products}`;
  const rows = [];
  const notes = [];
  log(`scale ${products}: fresh state, migrations`);
  const dir = await freshState(label);
  tempDirs.push(dir);
  const seeded = await seed(dir, { products, orders: analyticsOrders || (full ? SEED_ORDERS : 0) });
  log(`scale ${products}: seeded with ${seeded.seeder} in ${seeded.seconds.toFixed(1)} s`);
  await insertAdmin(dir);

  // INSTRUMENT=1 lets the cost phase ask for X-Cost; the load cases never ask, so they run the app unmetered. Both
  // Workers, as deployed: the edge (serving the port) forwards writes to the data Worker (README "Where each write runs").
  const worker = await startWorker(dir, { vars: { INSTRUMENT: "1" }, configs: ["wrangler.edge.jsonc", "wrangler.toml"] });
  const { base } = worker;
  log(`scale ${products}: wrangler dev up at ${base}`);
  let cost = [];
  try {
    const add = (row) => {
      rows.push({ scale: products, ...row });
      log(`  ${row.name}: ${row.rps} req/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms, non-2xx ${row.non2xx}, errors ${row.errors}`);
    };

    if (!COST_ONLY) add(await measure("GET /health (baseline)", base, { path: "/health", warmup: Math.max(WARMUP_S, 3) }));

    const sample = await sampleCatalogue(base);
    if (!words) words = await pickSearchWords(base, sample);
    const commonCount = await searchCount(base, words.common);
    const rareCount = await searchCount(base, words.rare);
    notes.push(`search words: common "${words.common}" (${commonCount} matches), rare "${words.rare}" (${rareCount} matches)`);
    const total = (await api(base, "/api/products/?page_size=1")).data.count;
    notes.push(`${total} active products listed`);

    if (COST) {
      log(`scale ${products}: cost phase (one request at a time, metered)`);
      try {
        cost = await measureCosts(base, { admin: { username: ADMIN.username, password: ADMIN.password }, words, total, password: USER_PASSWORD });
        for (const c of cost) log(`  cost ${c.case}: rt ${c.rt} (max ${c.rt_max}), d1 ${c.d1}, rows ${c.rows_read}/${c.rows_written}, do ${c.do}, kv ${c.kv}, ${c.model_ms} ms, $${c.usd_per_million.total}/M`);
      } catch (err) {
        if (COST_ONLY) throw err;
        notes.push(`cost phase failed: ${err.message}`);
      }
    }
    if (COST_ONLY) return { rows, notes, words, seeded, cost };

    // Each listing twice: the same URL over and over (what a popular page gets; served from the Workers cache when
    // the catalogue caches listings) and a distinct URL per request (a cache miss every time: the D1 path).
    const listings = [
      { name: "GET /api/products/ (page 1)", path: "/api/products/", kind: "list" },
      { name: `GET /api/products/?search=${words.common} (common, ${commonCount} matches)`, path: `/api/products/?search=${encodeURIComponent(words.common)}`, kind: "search_common", matches: commonCount },
      { name: `GET /api/products/?search=${words.rare} (rare, ${rareCount} matches)`, path: `/api/products/?search=${encodeURIComponent(words.rare)}`, kind: "search_rare", matches: rareCount },
    ];
    for (const l of listings) {
      add(await measure(`${l.name}, same URL`, base, { path: l.path, extra: { kind: l.kind, cache: "same-url", matches: l.matches } }));
      add(await measure(`${l.name}, distinct URLs`, base, { requests: distinctUrls(l.path), extra: { kind: l.kind, cache: "distinct-urls", matches: l.matches } }));
    }
    const detailPaths = sample.ids.slice(0, 100).map((id) => `/api/products/${id}/`);
    add(await measure(`GET /api/products/{id}/ (${detailPaths.length} ids)`, base, { requests: rotatingPaths(detailPaths), warmup: Math.max(WARMUP_S, 2), extra: { kind: "detail" } }));

    if (first) add(await measure("GET /api/categories/ (tree)", base, { path: "/api/categories/" }));
    // The ceiling again after the catalogue cases: the first run is often still warming up (JIT) and the machine's
    // load drifts, so the baseline is the better of the two.
    add(await measure("GET /health (baseline, again)", base, { path: "/health" }));
    if (full) await fullCases(base, add, notes);
    if (analyticsOrders) {
      const adminToken = await login(base, ADMIN.username, ADMIN.password);
      add(
        // An admin dashboard, not a public page: 2 connections, so the row shows its latency rather than a queue
        // (each request aggregates every order in D1, which runs one query at a time).
        await measure(`GET /api/products/analytics/ (admin, ${analyticsOrders} orders, 2 connections)`, base, {
          path: "/api/products/analytics/",
          headers: { authorization: `Bearer ${adminToken}` },
          connections: 2,
        }),
      );
    }
  } finally {
    await worker.stop();
    removeState(dir);
    tempDirs = tempDirs.filter((d) => d !== dir);
  }
  return { rows, notes, words, seeded, cost };
}

async function fullCases(base, add, notes) {
  const adminToken = await login(base, ADMIN.username, ADMIN.password);
  const { data: categories } = await api(base, "/api/categories/all/");
  const categoryId = categories[0].id;
  const createProduct = async (name, stock) =>
    (await api(base, "/api/products/", { method: "POST", token: adminToken, body: { name, description: "Benchmark product", price: "499.00", stock, category: categoryId } })).data.id;

  // Users: one for the cart read, then the pool for order creation and the storm (registered before any timed phase).
  const t0 = Date.now();
  const [cartUser] = await registerUsers(base, 1, "bench_cart_");
  const tokens = await registerUsers(base, STORM_USERS, "bench_u");
  const regSeconds = (Date.now() - t0) / 1000;
  notes.push(`registered ${STORM_USERS + 1} users through POST /api/auth/register/ in ${regSeconds.toFixed(1)} s (${((STORM_USERS + 1) / regSeconds).toFixed(1)}/s, concurrency ${REGISTER_CONCURRENCY})`);
  log(`  registered ${STORM_USERS + 1} users in ${regSeconds.toFixed(1)} s`);

  // Cart read: a user with two lines.
  const orderProducts = [];
  for (let i = 0; i < 10; i++) orderProducts.push(await createProduct(`Bench Order Product ${i}`, 100_000));
  await addToCart(base, cartUser, orderProducts[0], 2);
  await addToCart(base, cartUser, orderProducts[1], 1);
  add(await measure("GET /api/cart/ (authenticated, 2 lines)", base, { path: "/api/cart/", headers: { authorization: `Bearer ${cartUser}` } }));

  // Order creation: ORDER_USERS distinct users, each with one line in the cart, one checkout each.
  const orderTokens = tokens.slice(0, ORDER_USERS);
  await pool(orderTokens, 16, (token, i) => addToCart(base, token, orderProducts[i % orderProducts.length], 1));
  const orderBody = JSON.stringify({ shipping_address: "12 Bench Street, Bengaluru 560001" });
  const orders = await measure(`POST /api/orders/create_order/ (${ORDER_USERS} distinct users)`, base, {
    requests: rotatingTokens(orderTokens, { method: "POST", path: "/api/orders/create_order/", body: orderBody }),
    amount: ORDER_USERS,
  });
  orders.created = orders.status_codes["201"] ?? 0;
  add(orders);
  if (orders.created !== ORDER_USERS) notes.push(`order creation: only ${orders.created} of ${ORDER_USERS} checkouts answered 201 (${JSON.stringify(orders.status_codes)})`);

  // Storm: STORM_USERS users, one hot product with STORM_STOCK units, every checkout at once.
  const hot = await createProduct("Bench Hot Product", STORM_STOCK);
  await pool(tokens, 16, (token) => addToCart(base, token, hot, 1));
  log(`  storm: ${STORM_USERS} carts hold product ${hot} (stock ${STORM_STOCK}); firing`);
  const storm = await measure(`checkout storm (${STORM_USERS} concurrent orders, stock ${STORM_STOCK})`, base, {
    requests: rotatingTokens(tokens, { method: "POST", path: "/api/orders/create_order/", body: orderBody }),
    connections: STORM_USERS,
    amount: STORM_USERS,
  });
  const successes = storm.status_codes["201"] ?? 0;
  const { data: hotAfter } = await api(base, `/api/products/${hot}/`);
  const { data: hotListed } = await api(base, `/api/products/?search=${encodeURIComponent("Bench Hot Product")}`, { token: adminToken });
  storm.storm = {
    users: STORM_USERS,
    stock: STORM_STOCK,
    successes,
    rejected_400: storm.status_codes["400"] ?? 0,
    other: storm.requests - successes - (storm.status_codes["400"] ?? 0),
    final_stock: hotAfter.stock,
    final_stock_d1_projection: hotListed.results?.find((p) => p.id === hot)?.stock ?? null,
    orders_per_s: Math.round((successes / storm.duration_s) * 10) / 10,
    exact: successes === STORM_STOCK && hotAfter.stock === 0,
  };
  add(storm);
  notes.push(
    `storm: ${successes} orders created of ${STORM_USERS} (stock ${STORM_STOCK}) -> ${storm.storm.exact ? "exact, no oversell" : "NOT EXACT"}; ` +
      `final stock ${hotAfter.stock} (D1 projection ${storm.storm.final_stock_d1_projection}); ${storm.storm.rejected_400} x 400, ${storm.storm.other} other; ` +
      `${storm.storm.orders_per_s} successful orders/s, all ${STORM_USERS} answered in ${storm.duration_s} s`,
  );

  add(await measure("GET /api/products/analytics/ (admin)", base, { path: "/api/products/analytics/", headers: { authorization: `Bearer ${adminToken}` } }));
}

// ---- main ----

async function main() {
  ensureDevVars();
  execFileSync(process.execPath, ["scripts/edge-config.mjs"], { cwd: ROOT, stdio: "inherit" }); // the edge Worker's config
  const machine = {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    memory_gb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavg_at_start: loadavg().map((n) => Math.round(n * 100) / 100),
    date: new Date().toISOString(),
    tool: "autocannon 9 (in the bench process, sharing the same cores as wrangler dev and its two workerd processes)",
    connections: CONNECTIONS,
    duration_s: DURATION_S,
    warmup_s: WARMUP_S,
  };
  if (process.env.BENCH_WEBHOOKS_ONLY === "1") {
    const webhooks = await benchWebhooks(log);
    mkdirSync(join(ROOT, "bench"), { recursive: true });
    writeFileSync(join(ROOT, "bench", "webhooks.json"), JSON.stringify({ machine, webhooks }, null, 2) + "\n");
    return;
  }
  log(`${machine.cores} cores, Node ${machine.node}, scales ${SCALES.join(", ")}`);
  const scales = [];
  let words = null;
  for (const [i, products] of SCALES.entries()) {
    const largest = i === SCALES.length - 1 && i > 0;
    // The issue's scale, 100,000 orders, at the largest of several scales (and for a cost-only run at 100,000 products).
    const analyticsOrders = (largest || (COST_ONLY && products >= 100_000)) && !CATALOGUE_ONLY ? LARGE_ORDERS : 0;
    const result = await runScale(products, { first: i === 0, full: i === 0 && !CATALOGUE_ONLY, words, analyticsOrders });
    words = result.words;
    scales.push({ products, seeder: result.seeded, notes: result.notes, rows: result.rows, cost: result.cost });
  }
  for (const scale of scales) {
    const health = scale.rows.filter((r) => r.name.startsWith("GET /health"));
    scale.health_rps = health.length ? Math.max(...health.map((r) => r.rps)) : null;
    for (const row of scale.rows) row.fraction_of_health = scale.health_rps ? Math.round((row.rps / scale.health_rps) * 1000) / 1000 : null;
  }
  const cost_model = { prices: PRICES, do_active_ms: DO_ACTIVE_MS, latency_ms: LATENCY_MS };
  const webhooks = process.env.BENCH_WEBHOOKS === "0" ? null : await benchWebhooks(log);
  const results = { machine, scales, cost_model, webhooks, targets: evaluateTargets(scales), total_seconds: Math.round((Date.now() - startedAt) / 1000) };
  const markdown =
    renderMarkdown(results) +
    (webhooks
      ? `\n### Webhooks: ${webhooks.events} events fanned out to ${webhooks.endpoints} endpoints\n\n${webhooks.deliveries} deliveries in ${webhooks.seconds} s: ${webhooks.deliveriesPerSecond} deliveries/s, ${webhooks.rowsWrittenPerEvent} rows written per event\n`
      : "");
  mkdirSync(join(ROOT, "bench"), { recursive: true });
  writeFileSync(join(ROOT, "bench", "results.json"), JSON.stringify(results, null, 2) + "\n");
  writeFileSync(join(ROOT, "bench", "results.md"), markdown);
  console.log("\n" + markdown);
  log("wrote bench/results.json and bench/results.md");
}

/** The issue's targets, checked against the measured rows. */
function evaluateTargets(scales) {
  const targets = [];
  const catalogue = (name) => /^GET \/api\/(products|categories)\//.test(name) && !name.includes("analytics");
  for (const scale of scales) {
    for (const row of scale.rows.filter((r) => catalogue(r.name))) {
      targets.push({ target: `catalogue read >= 60% of /health @ ${scale.products}`, case: row.name, value: row.fraction_of_health, met: row.fraction_of_health >= 0.6 });
    }
  }
  if (scales.length >= 2) {
    const small = scales[0];
    const large = scales[scales.length - 1];
    for (const kind of ["search_common", "search_rare"]) {
      for (const cache of ["same-url", "distinct-urls"]) {
        const a = small.rows.find((r) => r.kind === kind && r.cache === cache);
        const b = large.rows.find((r) => r.kind === kind && r.cache === cache);
        if (a && b) {
          const ratio = Math.round((a.rps / b.rps) * 100) / 100;
          targets.push({ target: `search @ ${large.products} within 2x of @ ${small.products} (req/s ratio)`, case: `${kind}, ${cache}`, value: ratio, met: ratio <= 2 });
        }
      }
    }
  }
  for (const scale of scales) {
    for (const row of scale.cost ?? []) {
      const checks = checkBudget(row);
      if (!checks.length) continue;
      const label = { rt_after_cache: "round trips after the edge-cache lookup", rt: "round trips", do: "DO calls", rows_read: "rows read", long: "long hops", model_ms: "far ms" };
      targets.push({
        target: `${checks.map((b) => `${label[b.key]} <= ${b.max.toLocaleString("en-US")}`).join(", ")} @ ${scale.products}`,
        case: row.case,
        value: checks.map((b) => b.value.toLocaleString("en-US")).join(", "),
        met: checks.every((b) => b.met),
      });
    }
  }
  for (const scale of scales) {
    const storm = scale.rows.find((r) => r.storm);
    if (storm) targets.push({ target: "zero oversell in the storm", case: storm.name, value: `${storm.storm.successes} created, final stock ${storm.storm.final_stock}`, met: storm.storm.exact });
  }
  return targets;
}

main()
  .then(() => process.exit(0))
  .catch((err) => {
    console.error(`bench failed: ${err.stack ?? err}`);
    process.exit(1);
  });

// The cost phase of `npm run bench` (issue 14): each main route once, one request at a time, through the Worker's
// cost meter (src/lib/cost/: the bench starts `wrangler dev` with INSTRUMENT=1 and sends X-Cost-Report: 1). The Worker
// runs as deployed: the edge Worker and the data Worker in one `wrangler dev`, writes crossing the hop between them.
// Gives per route the round trips in sequence, D1 calls and rows, Durable Object calls, KV and Cache API operations,
// the modeled latency for a far client, and the platform cost per million such requests at Cloudflare's prices.

/**
 * Cloudflare's published usage prices, Workers Paid plan (Standard usage model), beyond the monthly included usage,
 * in USD, as read on 2026-11-29 from:
 * - Workers: https://developers.cloudflare.com/workers/platform/pricing/#workers
 * - D1: https://developers.cloudflare.com/d1/platform/pricing/
 * - Durable Objects: https://developers.cloudflare.com/durable-objects/platform/pricing/
 * - Workers KV: https://developers.cloudflare.com/kv/platform/pricing/
 * The Cache API has no usage price.
 */
export const PRICES = {
  as_of: "2026-11-29",
  workers_request: 0.3 / 1e6,
  d1_row_read: 0.001 / 1e6,
  d1_row_written: 1.0 / 1e6,
  do_request: 0.15 / 1e6, // every RPC method call on a stub is one billed request
  do_gb_second: 12.5 / 1e6, // duration, 128 MB per active object
  kv_read: 0.5 / 1e6,
  kv_write: 5.0 / 1e6,
  kv_delete: 5.0 / 1e6,
  kv_list: 5.0 / 1e6,
};

/** The meter's modeled hops (src/lib/cost/meter.ts LATENCY_MS), for the report's explanation. */
export const LATENCY_MS = { client: 20, long: 150, short: 3, local: 5 };

/**
 * Assumed wall time a Durable Object stays active per call (its duration bill): the local run cannot measure it.
 * Worker CPU time ($0.02 per million CPU ms) is not included either: it is not measured here.
 */
export const DO_ACTIVE_MS = Number(process.env.BENCH_DO_ACTIVE_MS ?? 10);

/** `X-Cost: rt=2;model_ms=175;d1=1;...` -> { rt: 2, model_ms: 175, d1: 1, ... } */
export function parseCost(header) {
  if (!header) return null;
  return Object.fromEntries(
    header.split(";").map((pair) => {
      const [key, value] = pair.split("=");
      return [key, Number(value)];
    }),
  );
}

/** Platform cost of a million requests like this one, in USD (a breakdown and the total). */
export function costPerMillion(c) {
  const parts = {
    workers: PRICES.workers_request,
    d1_reads: c.rows_read * PRICES.d1_row_read,
    d1_writes: c.rows_written * PRICES.d1_row_written,
    do_requests: c.do * PRICES.do_request,
    do_duration: c.do * (DO_ACTIVE_MS / 1000) * 0.128 * PRICES.do_gb_second,
    kv: c.kv_reads * PRICES.kv_read + c.kv_writes * PRICES.kv_write + c.kv_deletes * PRICES.kv_delete + c.kv_lists * PRICES.kv_list,
  };
  const perMillion = Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, round(v * 1e6)]));
  return { total: round(Object.values(parts).reduce((a, b) => a + b, 0) * 1e6), parts: perMillion };
}

const round = (n) => Math.round(n * 1000) / 1000;

let distinct = 0;
/** A query parameter the API ignores: the in-isolate memo and the edge cache miss, as for a page nobody asked for. */
const fresh = (path) => `${path}${path.includes("?") ? "&" : "?"}_cost=${Date.now().toString(36)}-${distinct++}`;

/** One metered request; throws unless it answers one of `expect`. */
async function metered(base, path, { method = "GET", token, body, headers = {}, expect = [200, 201] } = {}) {
  const res = await fetch(base + path, {
    method,
    headers: {
      "X-Cost-Report": "1",
      ...(body !== undefined ? { "Content-Type": "application/json" } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(120_000),
  });
  const text = await res.text();
  if (!expect.includes(res.status)) throw new Error(`${method} ${path} -> ${res.status}: ${text.slice(0, 300)}`);
  const cost = parseCost(res.headers.get("X-Cost"));
  if (!cost) throw new Error(`${method} ${path}: no X-Cost header (is the Worker running with INSTRUMENT=1?)`);
  return { status: res.status, data: text ? JSON.parse(text) : null, headers: res.headers, cost };
}

const plain = async (base, path, opts) => (await metered(base, path, opts)).data;

/**
 * Measures the routes of issue 14 once each. `admin` is an admin's credentials (the bench inserts one), `words.common`
 * the common search word, `total` the number of listed products.
 */
export async function measureCosts(base, { admin, words, total, password }) {
  const rows = [];
  const add = (name, m, budget = {}) => {
    rows.push({ case: name, status: m.status, ...m.cost, usd_per_million: costPerMillion(m.cost), budget });
  };
  // Issue 14's targets. A cacheable anonymous read may look up the edge cache (5 ms, local) before its one read.
  const catalogue = { rt_after_cache: 1, do: 0 };
  const listPage = { ...catalogue, rows_read: 2000 };
  // Signed-in reads: the session check runs beside the route's first read.
  const session = { rt: 1, do: 0 };
  // Issue 24: a write runs next to the data, reached in one long hop; 200 ms for a far shopper.
  const nextToData = { long: 1, model_ms: 200 };
  const adminToken = (await plain(base, "/api/auth/login/", { method: "POST", body: admin })).access;
  const register = async (prefix) => {
    const username = `${prefix}${Date.now().toString(36)}${distinct++}`;
    const data = await plain(base, "/api/auth/register/", {
      method: "POST",
      body: { username, email: `${username}@example.com`, password, password2: password, first_name: "Cost", last_name: "Bench" },
    });
    return { username, token: data.tokens.access };
  };

  // Products with plenty of stock for the carts (the seeded ones may be sold out).
  const categories = await plain(base, "/api/categories/all/");
  const stocked = [];
  for (let i = 0; i < 20; i++) {
    const product = await plain(base, "/api/products/", {
      method: "POST",
      token: adminToken,
      body: { name: `Cost Bench Product ${i}`, description: "Benchmark product", price: "499.00", stock: 100_000, category: categories[0].id },
    });
    stocked.push(product.id);
  }
  const detailId = (await plain(base, "/api/products/?page_size=1")).results[0].id;
  const lastPage = Math.max(1, Math.ceil(total / 50));

  add("product list, page 1 (cache miss)", await metered(base, fresh("/api/products/")), listPage);
  add(`product list, last page (${lastPage}, cache miss)`, await metered(base, fresh(`/api/products/?page=${lastPage}`)), catalogue);
  // A search ranks and counts at most its 100 newest matches (products.query.ts), so a common word costs what a rare one does.
  add(`search, common word "${words.common}" (cache miss)`, await metered(base, fresh(`/api/products/?search=${encodeURIComponent(words.common)}`)), listPage);
  add(`search, common word "${words.common}", by price (cache miss)`, await metered(base, fresh(`/api/products/?search=${encodeURIComponent(words.common)}&ordering=price`)), listPage);
  add("featured products (cache miss)", await metered(base, fresh("/api/products/featured/")), catalogue);
  add("category tree (cache miss)", await metered(base, fresh("/api/categories/")), catalogue);
  add("product detail (cache miss)", await metered(base, fresh(`/api/products/${detailId}/`)), catalogue);

  const customer = await register("cost_c");
  add("product list, page 1, as a customer", await metered(base, fresh("/api/products/"), { token: customer.token }), session);
  add("profile", await metered(base, "/api/auth/profile/", { token: customer.token }), session);
  add("add to a signed-in cart", await metered(base, "/api/cart/add/", { method: "POST", token: customer.token, body: { product_id: stocked[0], quantity: 1 } }), nextToData);
  add("cart (1 line)", await metered(base, "/api/cart/", { token: customer.token }), session);

  for (const lines of [1, 5, 20]) {
    const buyer = lines === 1 ? customer : await register("cost_b");
    for (const id of stocked.slice(lines === 1 ? 1 : 0, lines)) {
      await plain(base, "/api/cart/add/", { method: "POST", token: buyer.token, body: { product_id: id, quantity: 1 } });
    }
    add(`create_order, ${lines} line${lines > 1 ? "s" : ""}`, await metered(base, "/api/orders/create_order/", { method: "POST", token: buyer.token, body: { shipping_address: "12 Bench Street, Bengaluru 560001" } }), nextToData);
  }
  add("own orders list", await metered(base, "/api/orders/", { token: customer.token }), session);

  const merger = await register("cost_m");
  const guest = await metered(base, "/api/cart/add/", { method: "POST", body: { product_id: stocked[1], quantity: 2 } });
  const cartId = guest.headers.get("X-Cart-Id");
  // Anonymous carts live in D1 next to the data (issue 27): one long hop like every other write.
  add("add to an anonymous cart (new cart)", guest, nextToData);
  add("login with an anonymous cart to merge", await metered(base, "/api/auth/login/", { method: "POST", body: { username: merger.username, password }, headers: { "X-Cart-Id": cartId } }), nextToData);

  add("admin dashboard (/api/products/analytics/)", await metered(base, "/api/products/analytics/", { token: adminToken }), { ...session, rows_read: 20_000 });
  add("admin sales report (30 days)", await metered(base, "/api/orders/sales_report/", { token: adminToken }), { ...session, rows_read: 20_000 });
  add("admin orders list", await metered(base, "/api/orders/", { token: adminToken }), session);
  add("admin low-stock list", await metered(base, "/api/products/low_stock/", { token: adminToken }), session);
  return rows;
}

/** Each budget of a cost row: the measured value and whether it is within. */
export function checkBudget(row) {
  return Object.entries(row.budget ?? {}).map(([key, max]) => {
    const value = key === "rt_after_cache" ? row.rt - (row.cache > 0 ? 1 : 0) : row[key];
    return { key, max, value, met: value <= max };
  });
}

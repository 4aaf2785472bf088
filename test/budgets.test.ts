/**
 * Cost budgets of issue 14, measured with the same meter as `npm run bench` (src/lib/cost/): each request
 * goes through the Worker's fetch entry with an instrumented env, so every D1, Durable Object, KV and Cache API call
 * of the Worker is counted. A budget that the code does not meet yet is `it.fails` with the measured number, so the
 * gap stays visible and the test turns red (asking to drop `.fails`) the day the target is met.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { instrumentEnv } from "../src/lib/cost/bindings";
import { CostMeter, type CostReport } from "../src/lib/cost/meter";
import { meterRequest } from "../src/lib/cost/report";
import { api, createAdmin, registerUser, type TestUser } from "./helpers";
import { fillCart, insertCategory, insertProduct } from "./fixtures";
import { fakeRazorpay } from "./razorpay-stub";

interface Measured {
  status: number;
  body: any;
  headers: Headers;
  cost: CostReport;
  /** The request's I/O, one line each (step, reach, call), shown when a budget fails. */
  trace: string;
}

let distinct = 0;
/** A query parameter the API ignores, so the in-isolate memo and the edge cache always miss. */
const fresh = () => `_budget=${distinct++}`;

async function measure(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Measured> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers["Content-Type"] = "application/json";
  const ctx = createExecutionContext();
  const request = new Request(`https://shop.test${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const { response, cost, meter } = await meterRequest(worker.fetch, request, env, ctx);
  const text = await response.text();
  await waitOnExecutionContext(ctx);
  const trace = meter.trace.map((io) => `step ${io.wave || "-"} ${io.reach}${io.background ? " (background)" : ""}: ${io.what}`).join("\n");
  return { status: response.status, body: text ? JSON.parse(text) : null, headers: response.headers, cost, trace: `${method} ${path}\n${trace}` };
}

/** Round trips after the edge-cache lookup that a cacheable anonymous read makes before its own read (5 ms, local). */
const afterCacheLookup = (cost: CostReport) => cost.rt - (cost.cache > 0 ? 1 : 0);

/** `count` active products in one statement (a recursive CTE), in category `categoryId`. */
async function insertProducts(count: number, categoryId: number, tag: string): Promise<void> {
  await env.DB.prepare(
    `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1)
     INSERT INTO products (category_id, name, slug, description, price_paise, stock, is_active)
     SELECT ?2, 'Bulk ' || ?3 || ' Lamp ' || i, 'bulk-' || ?3 || '-' || i, 'A bulk lamp', 1000 + i, 25, 1 FROM seq`,
  )
    .bind(count, categoryId, tag)
    .run();
}

const address = { shipping_address: "12 Budget Street, Bengaluru 560001" };

describe("cost meter", () => {
  it("counts the Worker's D1 rows, its Durable Object calls and the edge cache of a request", async () => {
    const product = await insertProduct({ stock: 5 });
    const list = await measure("GET", `/api/products/?${fresh()}`);
    expect(list.status).toBe(200);
    expect(list.cost.d1).toBeGreaterThan(0);
    expect(list.cost.rows_read).toBeGreaterThan(0);
    expect(list.cost.rows_unknown).toBe(0);
    expect(list.cost.cache).toBeGreaterThan(0);
    const detail = await measure("GET", `/api/products/${product}/`);
    expect(detail.status).toBe(200);
    expect(detail.cost.rt).toBeGreaterThan(0);
    expect(detail.cost.model_ms).toBeGreaterThan(20);
  });

  it("counts a concurrent wave as one round trip and a call after it as the next, weighing each step by its slowest call", async () => {
    const meter = new CostMeter();
    const metered = instrumentEnv(env, meter);
    await Promise.all([metered.METER_TEST_KV.get("a"), metered.METER_TEST_KV.get("b"), metered.DB.prepare("SELECT 1 AS one").first()]);
    await metered.METER_TEST_KV.put("budget-key", "v", { expirationTtl: 60 });
    const cost = meter.close();
    expect(cost).toMatchObject({ rt: 2, d1: 1, kv: 3, kv_reads: 2, kv_writes: 1, do: 0 });
    // 20 client to edge + max(5, 5, 150) + 150 (a KV write)
    expect(cost.model_ms).toBe(20 + 150 + 150);
  });

  it("counts every method call on a Durable Object stub, however the stub was obtained", async () => {
    const product = await insertProduct({ stock: 3 });
    const meter = new CostMeter();
    const metered = instrumentEnv(env, meter);
    const byName = metered.INVENTORY.getByName(String(product));
    const byId = metered.INVENTORY.get(metered.INVENTORY.idFromName(String(product)));
    const [a, b] = await Promise.all([byName.getStock(product), byId.getStock(product)]);
    expect(a.available).toBe(3);
    expect(b.available).toBe(3);
    expect(meter.close()).toMatchObject({ rt: 1, do: 2, model_ms: 20 + 150 });
  });

  it("treats reads through a Sessions API session as replica-eligible, writes and a first-primary first read as primary", async () => {
    const meter = new CostMeter();
    const metered = instrumentEnv(env, meter);
    const session = metered.DB.withSession("first-primary");
    await session.prepare("SELECT count(*) AS n FROM products").first(); // first read: primary
    await session.prepare("SELECT count(*) AS n FROM categories").first(); // then a replica may serve it
    await session.batch([session.prepare("SELECT 1"), session.prepare("SELECT 2")]);
    await session.prepare("INSERT INTO categories (name, slug) VALUES (?, ?)").bind("Session Cat", "session-cat").run();
    expect(typeof session.getBookmark()).not.toBe("undefined");
    const unconstrained = metered.DB.withSession();
    await unconstrained.prepare("SELECT 1").first();
    const cost = meter.close();
    expect(cost).toMatchObject({ rt: 5, d1: 5, d1_replica: 3, rows_unknown: 0 });
    expect(cost.rows_written).toBeGreaterThan(0); // the row and its index entries
    expect(cost.model_ms).toBe(20 + 150 + 5 + 5 + 150 + 5);
  });

  it("weighs each I/O by where it runs: the primary is a long hop from the edge, a short one next to the data; a KV write is long from both", async () => {
    const data = new CostMeter("data");
    const there = instrumentEnv(env, data);
    await there.DB.prepare("SELECT 1").first(); // the primary, in the same region: short
    await there.METER_TEST_KV.get("budget-missing"); // answered locally
    await there.METER_TEST_KV.put("budget-place", "v", { expirationTtl: 60 }); // KV's central stores: long
    const remote = data.close();
    expect(remote).toMatchObject({ rt: 3, long: 1, short: 1, model_ms: 20 + 3 + 5 + 150 });
    const edge = new CostMeter("edge");
    await instrumentEnv(env, edge).DB.prepare("SELECT 1").first(); // the primary from the edge: long
    edge.absorb(remote); // a forwarded request's share, after the hop
    expect(edge.close()).toMatchObject({ rt: 4, long: 2, short: 1, d1: 2, kv: 2, model_ms: 20 + 150 + 3 + 5 + 150 });
  });

  it("leaves I/O handed to waitUntil out of the response's round trips", async () => {
    const meter = new CostMeter();
    const ctx = createExecutionContext();
    const metered = instrumentEnv(env, meter);
    await metered.DB.prepare("SELECT 1").first();
    meter.context(ctx).waitUntil(metered.METER_TEST_KV.put("budget-bg", "v", { expirationTtl: 60 }));
    await waitOnExecutionContext(ctx);
    expect(meter.close()).toMatchObject({ rt: 1, kv_writes: 1, bg: 1, model_ms: 20 + 150 });
  });

  it("answers an X-Cost header only when INSTRUMENT is 1 and the request asks", async () => {
    const ask = { "X-Cost-Report": "1" };
    const ctx = createExecutionContext();
    const off = await worker.fetch(new Request("https://shop.test/health", { headers: ask }), env, ctx);
    expect(off.headers.get("X-Cost")).toBeNull();
    const on = await worker.fetch(new Request(`https://shop.test/api/products/?${fresh()}`, { headers: ask }), { ...env, INSTRUMENT: "1" } as Env, ctx);
    expect(on.headers.get("X-Cost")).toMatch(/^rt=\d+;rt_max=\d+;model_ms=\d+;long=\d+;short=\d+;d1=\d+;.*rows_read=\d+;/);
    const notAsked = await worker.fetch(new Request(`https://shop.test/api/products/?${fresh()}`), { ...env, INSTRUMENT: "1" } as Env, ctx);
    expect(notAsked.headers.get("X-Cost")).toBeNull();
    // A write crosses to the data side, which answers an edge that meters, never a client's ask passed along.
    const write = new Request("https://shop.test/api/auth/login/", { method: "POST", headers: { ...ask, "Content-Type": "application/json" }, body: "{}" });
    const passedOn = await worker.fetch(write, env, ctx);
    expect(passedOn.status).toBe(400);
    expect(passedOn.headers.get("X-Cost")).toBeNull();
    await waitOnExecutionContext(ctx);
  });
});

describe("anonymous catalogue reads: one round trip on a cache miss, no Durable Object", () => {
  let productId: number;
  let categorySlug: string;
  beforeAll(async () => {
    const categoryId = await insertCategory("Budget Lamps");
    categorySlug = "budget-lamps";
    productId = await insertProduct({ categoryId, name: "Budget Desk Lamp", stock: 9 });
    await insertProducts(120, categoryId, "cat");
  });

  const cases: Array<[string, () => string]> = [
    ["product list, page 1", () => `/api/products/?${fresh()}`],
    ["product list, last page", () => `/api/products/?page=3&${fresh()}`],
    ["search for a common word", () => `/api/products/?search=lamp&${fresh()}`],
    ["category filter", () => `/api/products/?category=${categorySlug}&${fresh()}`],
    ["featured products", () => `/api/products/featured/?${fresh()}`],
    ["category tree", () => `/api/categories/?${fresh()}`],
  ];
  for (const [name, path] of cases) {
    it(`${name}: one round trip after the edge-cache lookup, 0 DO calls, 30 ms for a far shopper`, async () => {
      const res = await measure("GET", path());
      expect(res.status).toBe(200);
      expect(afterCacheLookup(res.cost), res.trace).toBeLessThanOrEqual(1);
      expect(res.cost.do, res.trace).toBe(0);
      expect(res.cost.model_ms, res.trace).toBeLessThanOrEqual(30); // 20 to the edge, the cache lookup, a replica
    });
  }

  it("product detail: one round trip, 0 DO calls (stock from the D1 projection)", async () => {
    const res = await measure("GET", `/api/products/${productId}/?${fresh()}`);
    expect(res.status).toBe(200);
    expect(afterCacheLookup(res.cost), res.trace).toBeLessThanOrEqual(1);
    expect(res.cost.do, res.trace).toBe(0);
  });

  it("list, search and detail read through a D1 Sessions API session (replica-eligible)", async () => {
    for (const path of [`/api/products/?${fresh()}`, `/api/products/?search=lamp&${fresh()}`, `/api/products/${productId}/?${fresh()}`]) {
      const res = await measure("GET", path);
      expect(res.cost.d1).toBeGreaterThan(0);
      expect(res.cost.d1_replica).toBe(res.cost.d1);
    }
  });
});

describe("rows read per list page do not grow with the catalogue", () => {
  let small: Measured;
  let large: Measured;
  beforeAll(async () => {
    const categoryId = await insertCategory();
    await insertProducts(200, categoryId, "small");
    small = await measure("GET", `/api/products/?${fresh()}`);
    await insertProducts(1800, categoryId, "large");
    large = await measure("GET", `/api/products/?${fresh()}`);
  });

  it("page 1 reads no more rows at 10x the catalogue", () => {
    expect(small.body.count).toBeGreaterThanOrEqual(200);
    expect(large.body.count).toBeGreaterThanOrEqual(2000);
    expect(large.cost.rows_read, large.trace).toBeLessThanOrEqual(Math.ceil(small.cost.rows_read * 1.1));
  });

  it("pages 1 and 20 read at most 2,000 rows", async () => {
    const page20 = await measure("GET", `/api/products/?page=20&${fresh()}`);
    expect(large.cost.rows_read).toBeLessThanOrEqual(2000);
    expect(page20.cost.rows_read, `page 20 read ${page20.cost.rows_read} rows`).toBeLessThanOrEqual(1500); // 1,201 measured: 1,000 index entries, then 50 products and their categories
  });
});

describe("search at catalogue scale: rows read stay flat however many products match", () => {
  /** `count` active products named with `word`, in one statement. */
  async function insertNamed(word: string, count: number): Promise<void> {
    const categoryId = await insertCategory();
    await env.DB.prepare(
      `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1)
       INSERT INTO products (category_id, name, slug, description, price_paise, stock, is_active)
       SELECT ?2, ?3 || ' Kettle ' || i, lower(?3) || '-kettle-' || i, 'A ' || ?3 || ' kettle in steel', 1000 + i, 5, 1 FROM seq`,
    )
      .bind(count, categoryId, word)
      .run();
  }

  // "premium" matched 4,839 of 100,000 seeded products and read ~29,600 rows (every match scored, sorted and counted);
  // the same word at 1,000 products matches ~58. Here one catalogue holds both: a word as common as "premium" at
  // 100k, and one as common as it is at 1k.
  let rare: Measured;
  let common: Measured;
  beforeAll(async () => {
    await insertNamed("Quokka", 60);
    await insertNamed("Zephyr", 5000);
    rare = await measure("GET", `/api/products/?search=quokka&${fresh()}`);
    common = await measure("GET", `/api/products/?search=zephyr&${fresh()}`);
  });

  it("an uncached search matching 5,000 products reads at most 2,000 rows, within 2x of one matching 60", () => {
    expect(rare.status).toBe(200);
    expect(rare.body.count).toBe(60);
    expect(common.status).toBe(200);
    expect(common.body.results).toHaveLength(50);
    expect(common.cost.rows_read, common.trace).toBeLessThanOrEqual(2000);
    expect(common.cost.rows_read, `${common.cost.rows_read} vs ${rare.cost.rows_read}`).toBeLessThanOrEqual(2 * rare.cost.rows_read);
  });

  it("ranks and counts the 100 newest matches of a very common word, best first, every result a match", async () => {
    expect(common.body.count).toBe(100);
    for (const product of common.body.results) expect(product.name).toMatch(/^Zephyr Kettle \d+$/);
    // the candidates are the newest matches: ids 4,901..5,000 of the word's products
    const numbers = common.body.results.map((p: { name: string }) => Number(p.name.split(" ").pop()));
    expect(Math.min(...numbers)).toBeGreaterThan(4900);
    const page2 = await measure("GET", `/api/products/?search=zephyr&page=2&${fresh()}`);
    expect(page2.body.results).toHaveLength(50);
    const seen = new Set([...common.body.results, ...page2.body.results].map((p: { id: number }) => p.id));
    expect(seen.size).toBe(100);
    expect((await measure("GET", `/api/products/?search=zephyr&page=3&${fresh()}`)).status).toBe(404);
  });

  it("sorts the same candidates when an ordering is asked, at the same bounded cost", async () => {
    const byPrice = await measure("GET", `/api/products/?search=zephyr&ordering=price&${fresh()}`);
    expect(byPrice.body.count).toBe(100);
    const prices = byPrice.body.results.map((p: { price: string }) => Number(p.price));
    expect(prices).toEqual([...prices].sort((a, b) => a - b));
    expect(byPrice.cost.rows_read, byPrice.trace).toBeLessThanOrEqual(2000);
  });

  it("a search of one short term (LIKE, no index) reads at most 2,000 rows too", async () => {
    const short = await measure("GET", `/api/products/?search=ph&${fresh()}`);
    expect(short.status).toBe(200);
    expect(short.cost.rows_read, short.trace).toBeLessThanOrEqual(2000);
  });
});

/** Issue 24's target for a write that runs next to the data: 20 ms to the edge, one long hop, short hops there. */
const WRITE_BUDGET_MS = 200;

describe("checkout: one long hop and at most 6 steps next to the data, within 200 ms, for 1 to 100 lines", () => {
  async function checkoutWith(lines: number): Promise<Measured> {
    const user = await registerUser("budget");
    const categoryId = await insertCategory();
    const cart: Array<[number, number]> = [];
    for (let i = 0; i < lines; i++) cart.push([await insertProduct({ categoryId, stock: 50 }), 1]);
    await fillCart(user.id, cart);
    const res = await measure("POST", "/api/orders/create_order/", { token: user.access, body: address });
    expect(res.status).toBe(201);
    expect(res.body.items).toHaveLength(lines);
    return res;
  }
  for (const lines of [1, 5, 20, 100]) {
    it(`${lines} line${lines > 1 ? "s" : ""}`, async () => {
      const res = await checkoutWith(lines);
      expect(res.cost.long, res.trace).toBe(1);
      expect(res.cost.short, res.trace).toBeLessThanOrEqual(6);
      expect(res.cost.model_ms, res.trace).toBeLessThanOrEqual(WRITE_BUDGET_MS);
      // one reserve and one commit per line at most
      expect(res.cost.do, res.trace).toBeLessThanOrEqual(2 * lines);
    });
  }
});

describe("carts, login and payments next to the data: within 200 ms (plus Razorpay's own call)", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("add to a signed-in cart", async () => {
    const user = await registerUser("budget");
    const res = await measure("POST", "/api/cart/add/", { token: user.access, body: { product_id: await insertProduct({ stock: 5 }), quantity: 1 } });
    expect(res.status).toBe(200);
    expect(res.cost.long, res.trace).toBe(1);
    expect(res.cost.model_ms, res.trace).toBeLessThanOrEqual(WRITE_BUDGET_MS);
  });

  // Met since anonymous carts moved from KV (a write to KV's central stores: 329 ms after the hop, 620 ms before it)
  // to D1 next to the data.
  it("add to an anonymous cart", async () => {
    const res = await measure("POST", "/api/cart/add/", { body: { product_id: await insertProduct({ stock: 5 }), quantity: 1 } });
    expect(res.status).toBe(200);
    expect(res.cost.long, res.trace).toBe(1);
    expect(res.cost.model_ms, res.trace).toBeLessThanOrEqual(WRITE_BUDGET_MS);
  });

  it("add to an anonymous cart from a client address (a new cart counts against its hourly quota)", async () => {
    const res = await measure("POST", "/api/cart/add/", {
      body: { product_id: await insertProduct({ stock: 5 }), quantity: 1 },
      headers: { "CF-Connecting-IP": "198.51.100.42" },
    });
    expect(res.status).toBe(200);
    expect(res.cost.long, res.trace).toBe(1);
    expect(res.cost.model_ms, res.trace).toBeLessThanOrEqual(WRITE_BUDGET_MS);
  });

  it("login without a cart to merge", async () => {
    const user = await registerUser("budget");
    const res = await measure("POST", "/api/auth/login/", { body: { username: user.username, password: user.password } });
    expect(res.status).toBe(200);
    expect(res.cost.long, res.trace).toBe(1);
    expect(res.cost.model_ms, res.trace).toBeLessThanOrEqual(WRITE_BUDGET_MS);
  });

  // Met for the same reason: the merge and the anonymous cart's delete are in the login's one D1 batch (331 ms with
  // the KV delete; 470 before the hop).
  it("login with an anonymous cart to merge", async () => {
    const user = await registerUser("merger");
    const product = await insertProduct({ stock: 20 });
    const added = await api("POST", "/api/cart/add/", { body: { product_id: product, quantity: 2 } });
    const res = await measure("POST", "/api/auth/login/", { body: { username: user.username, password: user.password }, headers: { "X-Cart-Id": added.headers.get("X-Cart-Id")! } });
    expect(res.status).toBe(200);
    expect(res.cost.long, res.trace).toBe(1);
    expect(res.cost.model_ms, res.trace).toBeLessThanOrEqual(WRITE_BUDGET_MS);
    const cart = await api("GET", "/api/cart/", { token: res.body.access });
    expect(cart.body.items.map((i: { product: { id: number }; quantity: number }) => [i.product.id, i.quantity])).toEqual([[product, 2]]);
  });

  it("payment initiate and verify", async () => {
    const razorpay = fakeRazorpay();
    const user = await registerUser("budget");
    await fillCart(user.id, [[await insertProduct({ stock: 5 }), 1]]);
    const order = await api("POST", "/api/orders/create_order/", { token: user.access, body: address });
    const initiated = await measure("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: order.body.id } });
    expect(initiated.status).toBe(200);
    const paid = await razorpay.pay(initiated.body.razorpay_order_id, initiated.body.amount);
    const verified = await measure("POST", "/api/payments/verify/", {
      token: user.access,
      body: { order_id: order.body.id, razorpay_order_id: initiated.body.razorpay_order_id, ...paid },
    });
    expect(verified.status).toBe(200);
    for (const res of [initiated, verified]) {
      expect(res.cost.long, res.trace).toBe(1);
      expect(res.cost.model_ms, res.trace).toBeLessThanOrEqual(WRITE_BUDGET_MS);
    }
  });
});

describe("login and authenticated routes", () => {
  let customer: TestUser;
  let admin: TestUser;
  beforeAll(async () => {
    customer = await registerUser("budget");
    admin = await createAdmin();
  });

  it("login with an anonymous cart to merge: one hop, then at most 4 round trips next to the data", async () => {
    const user = await registerUser("merger");
    const productId = await insertProduct({ stock: 20 });
    const added = await api("POST", "/api/cart/add/", { body: { product_id: productId, quantity: 2 } });
    expect(added.status).toBeLessThan(300);
    const cartId = added.headers.get("X-Cart-Id")!;
    const res = await measure("POST", "/api/auth/login/", { body: { username: user.username, password: user.password }, headers: { "X-Cart-Id": cartId } });
    expect(res.status).toBe(200);
    expect(res.cost.rt - 1, res.trace).toBeLessThanOrEqual(4);
  });

  // Where the route's first read needs nothing but the user id in the token, the session check runs beside it: one
  // round trip in all. Elsewhere the session check may cost one more, no more.
  const authenticated: Array<[string, () => [string, string]]> = [
    ["own orders", () => ["/api/orders/", customer.access]],
    ["product list as a customer", () => [`/api/products/?${fresh()}`, customer.access]],
    ["admin dashboard", () => ["/api/products/analytics/", admin.access]],
    ["admin sales report", () => ["/api/orders/sales_report/", admin.access]],
    ["admin orders list", () => ["/api/orders/", admin.access]],
    ["admin low-stock list", () => ["/api/products/low_stock/", admin.access]],
  ];
  for (const [name, request] of authenticated) {
    it(`${name}: the session check runs beside the route's read (1 round trip), 0 DO calls`, async () => {
      const [path, token] = request();
      const res = await measure("GET", path, { token });
      expect(res.status).toBe(200);
      expect(res.cost.rt, res.trace).toBeLessThanOrEqual(1);
      expect(res.cost.do, res.trace).toBe(0);
    });
  }

  it("own cart: the session check costs at most one round trip (2 in all), 0 DO calls", async () => {
    const res = await measure("GET", "/api/cart/", { token: customer.access });
    expect(res.status).toBe(200);
    expect(res.cost.rt, res.trace).toBeLessThanOrEqual(2);
    expect(res.cost.do, res.trace).toBe(0);
  });

  it("profile: the session check runs concurrently with the profile read (1 round trip)", async () => {
    const res = await measure("GET", "/api/auth/profile/", { token: customer.access });
    expect(res.status).toBe(200);
    expect(res.cost.rt, res.trace).toBeLessThanOrEqual(1);
    expect(res.cost.do, res.trace).toBe(0);
  });
});

/**
 * The sales rollups (order_status_totals, order_daily_counts, paid_sales_daily, product_sales) and the product count against a recomputation from
 * scratch over orders and order_items, after every kind of order and payment change the API makes; and the admin
 * reads built on them, whose rows read must not grow with the number of orders.
 */
import { env } from "cloudflare:test";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { db } from "../src/db/client";
import { loadDashboard, loadSalesReport } from "../src/features/analytics/analytics.service";
import { lowStockProducts } from "../src/features/catalog/products.query";
import { listOrders } from "../src/features/orders/orders.view";
import { runSweep } from "../src/features/sweep/sweep.service";
import { hmacSha256Hex } from "../src/lib/crypto";
import { formatMoney } from "../src/lib/money";
import { api, createAdmin, registerUser, unique, type TestUser } from "./helpers";
import { fillCart, insertCategory, insertProduct } from "./fixtures";

const DAY_MS = 86_400_000;
const RAZORPAY = "https://api.razorpay.test";

/** Razorpay behind `fetch`: orders, payments made with `pay()`, refunds. */
function stubRazorpay() {
  const payments = new Map<string, { order_id: string; amount: number; status: string }>();
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    const url = new URL(req.url);
    if (url.origin !== RAZORPAY) throw new Error(`unexpected fetch ${req.url}`);
    const body: any = req.method === "POST" ? await req.json() : undefined;
    if (url.pathname === "/v1/orders") return Response.json({ id: unique("order_"), entity: "order", amount: body.amount, currency: "INR", status: "created" });
    const match = /^\/v1\/payments\/([^/]+)(\/refund)?$/.exec(url.pathname);
    const payment = match && payments.get(match[1]);
    if (!payment) return Response.json({ error: { code: "BAD_REQUEST_ERROR", description: "no such payment" } }, { status: 400 });
    if (match[2]) return Response.json({ id: `rfnd_${match[1]}`, entity: "refund", amount: payment.amount, payment_id: match[1], status: "processed" });
    return Response.json({ id: match[1], entity: "payment", ...payment });
  });
  return {
    pay(razorpayOrderId: string, amount: number) {
      const id = unique("pay_");
      payments.set(id, { order_id: razorpayOrderId, amount, status: "captured" });
      return id;
    },
  };
}

type Razorpay = ReturnType<typeof stubRazorpay>;

async function checkout(user: TestUser, lines: Array<[productId: number, quantity: number]>) {
  await fillCart(user.id, lines);
  const res = await api("POST", "/api/orders/create_order/", { token: user.access, body: { shipping_address: "1 Rollup Row, Pune" } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: number; total_amount: string };
}

async function initiate(user: TestUser, orderId: number) {
  const res = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: orderId } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body as { razorpay_order_id: string; amount: number };
}

async function payByVerify(razorpay: Razorpay, user: TestUser, orderId: number) {
  const { razorpay_order_id, amount } = await initiate(user, orderId);
  const paymentId = razorpay.pay(razorpay_order_id, amount);
  const signature = await hmacSha256Hex("test_key_secret", `${razorpay_order_id}|${paymentId}`);
  const res = await api("POST", "/api/payments/verify/", {
    token: user.access,
    body: { order_id: orderId, razorpay_order_id, razorpay_payment_id: paymentId, razorpay_signature: signature },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

async function webhook(event: string, razorpayOrderId: string, paymentId: string, amount: number, extra: Record<string, unknown> = {}) {
  const payment = { entity: { id: paymentId, entity: "payment", amount, currency: "INR", order_id: razorpayOrderId, status: event === "payment.failed" ? "failed" : "captured" } };
  const raw = JSON.stringify({ entity: "event", event, contains: ["payment", ...Object.keys(extra)], payload: { payment, ...extra } });
  const res = await api("POST", "/api/payments/webhook/", {
    raw,
    headers: { "X-Razorpay-Signature": await hmacSha256Hex("test_webhook_secret", raw), "x-razorpay-event-id": unique("evt_") },
  });
  expect(res.status).toBe(200);
}

async function payByWebhook(razorpay: Razorpay, user: TestUser, orderId: number) {
  const { razorpay_order_id, amount } = await initiate(user, orderId);
  const paymentId = razorpay.pay(razorpay_order_id, amount);
  await webhook("payment.captured", razorpay_order_id, paymentId, amount);
  return { razorpayOrderId: razorpay_order_id, paymentId, amount };
}

async function setStatus(admin: TestUser, orderId: number, status: string) {
  const res = await api("PATCH", `/api/orders/${orderId}/update_status/`, { token: admin.access, body: { status } });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
}

/** Moves an order's creation time, as orders placed on earlier days would have it. */
const backdate = (orderId: number, iso: string) => env.DB.prepare("UPDATE orders SET created_at = ? WHERE id = ?").bind(iso, orderId).run();

const all = async <T>(query: string, ...params: unknown[]) => (await env.DB.prepare(query).bind(...params).all<T>()).results;

/** Every rollup row, and the same figures recomputed from orders and order_items. */
async function rollupsAndRecomputation() {
  return {
    rollups: {
      statuses: await all("SELECT status, payment_status, order_count, total_paise FROM order_status_totals WHERE order_count <> 0 ORDER BY 1, 2"),
      orderDays: await all("SELECT day, order_count FROM order_daily_counts ORDER BY day"),
      days: await all("SELECT day, order_count, total_paise FROM paid_sales_daily ORDER BY day"),
      products: await all("SELECT product_id, units_sold, revenue_paise FROM product_sales ORDER BY product_id"),
      productCount: await all("SELECT n FROM catalog_counts WHERE scope = 'all'"),
    },
    recomputed: {
      statuses: await all(
        "SELECT status, payment_status, count(*) AS order_count, sum(total_paise) AS total_paise FROM orders GROUP BY 1, 2 ORDER BY 1, 2",
      ),
      orderDays: await all("SELECT substr(created_at, 1, 10) AS day, count(*) AS order_count FROM orders GROUP BY 1 ORDER BY 1"),
      days: await all(
        `SELECT substr(created_at, 1, 10) AS day, count(*) AS order_count, sum(total_paise) AS total_paise
         FROM orders WHERE payment_status = 'success' GROUP BY 1 ORDER BY 1`,
      ),
      products: await all(
        `SELECT oi.product_id, sum(oi.quantity) AS units_sold, sum(oi.subtotal_paise) AS revenue_paise
         FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE o.payment_status = 'success' GROUP BY 1 ORDER BY 1`,
      ),
      productCount: await all("SELECT count(*) AS n FROM products"),
    },
  };
}

/** The dashboard's order figures and a sales report, computed from scratch the way they were before the rollups. */
async function dashboardFromScratch() {
  const [revenue] = await all<{ paise: number }>("SELECT coalesce(sum(total_paise), 0) AS paise FROM orders WHERE payment_status = 'success'");
  const byStatus = await all<{ status: string; count: number }>("SELECT status, count(*) AS count FROM orders GROUP BY status ORDER BY status");
  const top = await all<{ id: number; name: string; units: number; paise: number }>(
    `SELECT oi.product_id AS id, p.name, sum(oi.quantity) AS units, sum(oi.subtotal_paise) AS paise
     FROM order_items oi JOIN orders o ON o.id = oi.order_id JOIN products p ON p.id = oi.product_id
     WHERE o.payment_status = 'success' GROUP BY oi.product_id ORDER BY units DESC, oi.product_id ASC LIMIT 10`,
  );
  const [products] = await all<{ n: number }>("SELECT count(*) AS n FROM products");
  return {
    total_revenue: formatMoney(revenue.paise),
    orders_by_status: byStatus,
    top_products: top.map((p) => ({ product__name: p.name, product__id: p.id, total_sold: p.units, revenue: formatMoney(p.paise) })),
    total_products: products.n,
  };
}

async function reportFromScratch(days: number, now: Date) {
  const cutoff = new Date(now.getTime() - days * DAY_MS).toISOString();
  const daily = await all<{ day: string; count: number; paise: number }>(
    `SELECT substr(created_at, 1, 10) AS day, count(*) AS count, sum(total_paise) AS paise
     FROM orders WHERE payment_status = 'success' AND created_at >= ? GROUP BY 1 ORDER BY 1`,
    cutoff,
  );
  return {
    period_days: days,
    total_orders: daily.reduce((n, d) => n + d.count, 0),
    total_revenue: formatMoney(daily.reduce((n, d) => n + d.paise, 0)),
    daily_breakdown: daily.map((d) => ({ day: d.day, total: formatMoney(d.paise), count: d.count })),
  };
}

describe("sales rollups", () => {
  let razorpay: Razorpay;
  let admin: TestUser;
  const placed: number[] = [];

  beforeAll(async () => {
    razorpay = stubRazorpay();
    admin = await createAdmin();
    const category = await insertCategory();
    const products = await Promise.all([500, 1_250, 9_999, 20_000].map((pricePaise) => insertProduct({ categoryId: category, pricePaise, stock: 500 })));
    const [a, b, c, d] = products;
    const shoppers = await Promise.all([registerUser("rollup"), registerUser("rollup"), registerUser("rollup"), registerUser("rollup")]);
    const [s1, s2, s3, s4] = shoppers;
    const order = async (user: TestUser, lines: Array<[number, number]>) => {
      const created = await checkout(user, lines);
      placed.push(created.id);
      return created.id;
    };

    const verified = await order(s1, [[a, 2], [b, 1]]);
    await payByVerify(razorpay, s1, verified);
    const captured = await order(s1, [[b, 3], [c, 1]]);
    await payByWebhook(razorpay, s1, captured);
    // paid, then taken all the way to delivered by an admin
    const delivered = await order(s2, [[c, 2], [d, 1]]);
    await payByVerify(razorpay, s2, delivered);
    for (const status of ["processing", "shipped", "delivered"]) await setStatus(admin, delivered, status);
    // paid, then cancelled by an admin: refunded through Razorpay, no longer revenue nor sold
    const refundedByAdmin = await order(s2, [[a, 5], [d, 2]]);
    await payByWebhook(razorpay, s2, refundedByAdmin);
    await setStatus(admin, refundedByAdmin, "cancelled");
    // paid, then refunded from the Razorpay dashboard (refund.processed webhook)
    const refundedAtGateway = await order(s3, [[b, 1]]);
    const payment = await payByWebhook(razorpay, s3, refundedAtGateway);
    await webhook("refund.processed", payment.razorpayOrderId, payment.paymentId, payment.amount, {
      refund: { entity: { id: unique("rfnd_"), entity: "refund", amount: payment.amount, payment_id: payment.paymentId, status: "processed" } },
    });
    // failed payment, then the shopper cancels
    const failedThenCancelled = await order(s3, [[c, 4]]);
    const attempt = await initiate(s3, failedThenCancelled);
    await webhook("payment.failed", attempt.razorpay_order_id, unique("pay_"), attempt.amount);
    expect((await api("POST", `/api/orders/${failedThenCancelled}/cancel/`, { token: s3.access })).status).toBe(200);
    // cash on delivery: an admin marks it paid, then it ships
    const cash = await order(s4, [[d, 1], [a, 1]]);
    await setStatus(admin, cash, "paid");
    await setStatus(admin, cash, "shipped");
    // walked away from the payment page: expired by the sweep
    const abandoned = await order(s4, [[a, 3]]);
    await backdate(abandoned, new Date(Date.now() - 2 * 3_600_000).toISOString());
    expect((await runSweep(env)).expiredOrders).toBe(1);
    // still pending
    await order(s4, [[c, 1]]);
    // Paid orders on earlier UTC days (moving created_at is a change the rollups follow too), one at the very
    // start of a day and one at its very end.
    const todayStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    await backdate(verified, new Date(todayStart - 3 * DAY_MS).toISOString());
    await backdate(delivered, new Date(todayStart - 3 * DAY_MS + DAY_MS - 1).toISOString());
    await backdate(cash, new Date(todayStart - 40 * DAY_MS + 5 * 3_600_000).toISOString());
    await backdate(refundedByAdmin, new Date(todayStart - 2 * DAY_MS).toISOString());
  });

  afterAll(() => vi.restoreAllMocks());

  it("match a recomputation from scratch after checkouts, payments, refunds, cancels, admin changes and expiry", async () => {
    const statuses = await all<{ status: string; payment_status: string }>("SELECT DISTINCT status, payment_status FROM orders");
    // the scenario really reached every kind of order the figures distinguish
    expect(statuses).toEqual(
      expect.arrayContaining(
        [
          ["paid", "success"],
          ["delivered", "success"],
          ["shipped", "success"],
          ["cancelled", "refunded"],
          ["paid", "refunded"],
          ["cancelled", "failed"],
          ["cancelled", "pending"],
          ["pending", "pending"],
        ].map(([status, payment_status]) => ({ status, payment_status })),
      ),
    );
    const { rollups, recomputed } = await rollupsAndRecomputation();
    expect(rollups).toEqual(recomputed);
    expect(recomputed.products.length).toBeGreaterThan(0);
  });

  it("answer the dashboard and the sales report exactly as a recomputation from scratch", async () => {
    const res = await api("GET", "/api/products/analytics/", { token: admin.access });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject(await dashboardFromScratch());
    expect(res.body.total_revenue).not.toBe("0.00");

    const now = new Date();
    const todayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
    // windows starting at the real now and at day edges: exactly at midnight, a millisecond before and after
    const nows = [now, new Date(todayStart + DAY_MS), new Date(todayStart + DAY_MS - 1), new Date(todayStart + DAY_MS + 1), new Date(todayStart + 7_200_000)];
    for (const at of nows) {
      for (const days of [1, 2, 3, 4, 30, 41, 365]) {
        expect(await loadSalesReport(db(env.DB), days, at), `${days} days before ${at.toISOString()}`).toEqual(await reportFromScratch(days, at));
      }
    }
    const http = await api("GET", "/api/orders/sales_report/?days=41", { token: admin.access });
    expect(http.body).toEqual(await reportFromScratch(41, new Date()));
  });

  it("list every order to an admin, page after page, in the order of a plain ORDER BY, and count them", async () => {
    // more orders, several a day, some at the same instant, so pages start inside days and across them
    const [{ id: userId }] = await all<{ id: number }>("SELECT id FROM users ORDER BY id DESC LIMIT 1");
    await insertOrders(0, 45, userId, [await insertProduct({ stock: 1 })], 4);
    await env.DB.prepare(
      `UPDATE orders SET created_at = (SELECT created_at FROM orders ORDER BY id DESC LIMIT 1 OFFSET 9)
       WHERE id IN (SELECT id FROM orders ORDER BY id DESC LIMIT 3)`,
    ).run();
    const reference = (await all<{ id: number }>("SELECT id FROM orders ORDER BY created_at DESC, id DESC")).map((o) => o.id);
    for (const size of [1, 4, 7, 50]) {
      const listed: number[] = [];
      for (let page = 1; ; page++) {
        const res = await api("GET", `/api/orders/?page_size=${size}&page=${page}`, { token: admin.access });
        expect(res.status).toBe(200);
        expect(res.body.count).toBe(reference.length);
        listed.push(...res.body.results.map((o: { id: number }) => o.id));
        if (!res.body.next) break;
      }
      expect(listed, `page_size=${size}`).toEqual(reference);
      const last = await api("GET", `/api/orders/?page_size=${size}&page=last`, { token: admin.access });
      expect(last.body.results.map((o: { id: number }) => o.id)).toEqual(reference.slice(Math.floor((reference.length - 1) / size) * size));
    }
    const pastTheEnd = await api("GET", `/api/orders/?page_size=50&page=${Math.ceil(reference.length / 50) + 1}`, { token: admin.access });
    expect(pastTheEnd).toMatchObject({ status: 404, body: { detail: "Invalid page." } });
  });

  it("are rebuilt exactly by the migration's backfill from the orders already there", async () => {
    const migration = env.TEST_MIGRATIONS.find((m) => m.name.startsWith("0005_sales_rollups"));
    const backfill = migration!.queries.filter((q) => /^\s*(--[^\n]*\n\s*)*INSERT INTO/.test(q));
    expect(backfill).toHaveLength(4);
    const kept = await rollupsAndRecomputation();
    await env.DB.batch(["order_status_totals", "order_daily_counts", "paid_sales_daily", "product_sales"].map((t) => env.DB.prepare(`DELETE FROM ${t}`)));
    await env.DB.batch(backfill.map((q) => env.DB.prepare(q)));
    const rebuilt = await rollupsAndRecomputation();
    expect(rebuilt.rollups).toEqual(rebuilt.recomputed);
    expect(rebuilt.rollups).toEqual(kept.rollups);
  });

  it("stay exact when orders, lines and products are deleted with raw SQL", async () => {
    const [first, second] = placed;
    await env.DB.prepare("DELETE FROM payments WHERE order_id IN (?, ?)").bind(first, second).run();
    // one order's lines first, then the order; the other order with its lines by ON DELETE CASCADE
    await env.DB.prepare("DELETE FROM order_items WHERE order_id = ?").bind(first).run();
    await env.DB.prepare("DELETE FROM orders WHERE id IN (?, ?)").bind(first, second).run();
    const spare = await insertProduct({ stock: 1 });
    await env.DB.prepare("DELETE FROM products WHERE id = ?").bind(spare).run();
    const { rollups, recomputed } = await rollupsAndRecomputation();
    expect(rollups).toEqual(recomputed);
  });
});

/**
 * A D1 binding that adds up `meta.rows_read` of everything run through it (raw() has no meta, so it is asked twice)
 * and keeps each statement it ran, for its query plan. Statements run one at a time: local D1 misattributes rows
 * read between statements that overlap (a page and its count run with Promise.all).
 */
function countingD1(inner: D1Database) {
  const counter = { rowsRead: 0, statements: [] as { sql: string; params: unknown[] }[] };
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(run: () => Promise<T>): Promise<T> => {
    const result = queue.then(run);
    queue = result.catch(() => undefined);
    return result;
  };
  const originals = new WeakMap<object, { stmt: D1PreparedStatement; sql: string; params: unknown[] }>();
  const wrap = (stmt: D1PreparedStatement, sql: string, params: unknown[]): D1PreparedStatement => {
    const ran = <T extends { meta: { rows_read: number } }>(result: T) => {
      counter.rowsRead += result.meta.rows_read;
      counter.statements.push({ sql, params });
      return result;
    };
    const wrapped = {
      bind: (...values: unknown[]) => wrap(stmt.bind(...values), sql, values),
      run: () => serial(async () => ran(await stmt.run())),
      all: () => serial(async () => ran(await stmt.all())),
      raw: (options?: { columnNames?: boolean }) =>
        serial(async () => {
          ran(await stmt.all());
          return stmt.raw(options as { columnNames: true });
        }),
    } as unknown as D1PreparedStatement;
    originals.set(wrapped, { stmt, sql, params });
    return wrapped;
  };
  const d1 = {
    prepare: (sql: string) => wrap(inner.prepare(sql), sql, []),
    batch: (statements: D1PreparedStatement[]) =>
      serial(async () => {
        const known = statements.map((s) => originals.get(s)!);
        const results = await inner.batch(known.map((k) => k.stmt));
        for (const r of results) counter.rowsRead += r.meta.rows_read;
        counter.statements.push(...known.map(({ sql, params }) => ({ sql, params })));
        return results;
      }),
  } as unknown as D1Database;
  return { d1, counter };
}

/**
 * Inserts orders `from`..`to - 1`: order j on UTC day (j mod days) back from today, at a time of day that varies with
 * j, with one line; the first `days` are all paid, so every day has a paid order however many there are.
 */
async function insertOrders(from: number, to: number, userId: number, productIds: number[], days = 60) {
  const now = Date.now();
  const todayStart = now - (now % DAY_MS);
  const statements: D1PreparedStatement[] = [];
  for (let j = from; j < to; j++) {
    const paid = Math.floor(j / days) % 3 === 0;
    const day = j % days;
    const timeOfDay = ((j * 7_919) % 1_000) / 1_000;
    const createdAt = new Date(todayStart - day * DAY_MS + timeOfDay * (day === 0 ? now - todayStart : DAY_MS)).toISOString();
    const number = unique("ORD-").toUpperCase();
    statements.push(
      env.DB.prepare(
        `INSERT INTO orders (user_id, order_number, hold_key, total_paise, status, payment_status, shipping_address, created_at)
         VALUES (?, ?, ?, 3000, ?, ?, 'x', ?)`,
      ).bind(userId, number, number, paid ? "paid" : "pending", paid ? "success" : "pending", createdAt),
      env.DB.prepare(
        "INSERT INTO order_items (order_id, product_id, quantity, price_paise, subtotal_paise) VALUES ((SELECT id FROM orders WHERE hold_key = ?), ?, 1, 3000, 3000)",
      ).bind(number, productIds[j % productIds.length]),
    );
  }
  for (let i = 0; i < statements.length; i += 200) await env.DB.batch(statements.slice(i, i + 200));
}

describe("admin reads at scale", () => {
  it("read as many rows with 600 orders as with 60", async () => {
    const [{ id: userId }] = await all<{ id: number }>("INSERT INTO users (username, email, password_hash) VALUES (?, ?, 'x') RETURNING id", unique("bulk"), `${unique("bulk")}@x.test`);
    const category = await insertCategory();
    const productIds = await Promise.all(Array.from({ length: 20 }, (_, i) => insertProduct({ categoryId: category, stock: i % 12 })));
    const statements: { name: string; sql: string; params: unknown[] }[] = [];
    const measure = async () => {
      const reads: Record<string, number> = {};
      const run = async (name: string, read: (d1: D1Database) => Promise<unknown>) => {
        const { d1, counter } = countingD1(env.DB);
        await read(d1);
        reads[name] = counter.rowsRead;
        statements.push(...counter.statements.map((st) => ({ name, ...st })));
      };
      await run("dashboard", (d1) => loadDashboard(db(d1), { from: new Date(Date.now() - 2_400_000).toISOString(), to: new Date(Date.now() - 1_200_000).toISOString() }));
      await run("sales report, 30 days", (d1) => loadSalesReport(db(d1), 30, new Date()));
      await run("admin orders, page 1", (d1) => listOrders(db(d1), null, { limit: 50, offset: 0 }));
      await run("admin orders, 10 from the 41st", (d1) => listOrders(db(d1), null, { limit: 10, offset: 40 }));
      await run("low stock", (d1) => lowStockProducts(db(d1), 100));
      return reads;
    };

    await insertOrders(0, 60, userId, productIds);
    const small = await measure();
    await insertOrders(60, 600, userId, productIds);
    const large = await measure();
    for (const [name, rows] of Object.entries(large)) {
      // the sales report reads the paid orders of the window's first, partial day, a deep page the orders of the day
      // it starts in: a handful here (1 a day with 60 orders, 10 with 600)
      expect(rows, `${name}: ${small[name]} rows with 60 orders, ${rows} with 600`).toBeLessThanOrEqual(small[name] + 20);
      expect(rows, name).toBeLessThan(400);
    }
    // and every query walks an index in the order it needs: no sort of all matching rows, and no table scanned
    // without an index but the few rows of order_status_totals (and the query's own subqueries)
    expect(statements.length).toBeGreaterThan(10);
    for (const { name, sql, params } of statements) {
      const steps = (await all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, ...params)).map((p) => p.detail);
      // The low-stock ids come from two index walks of at most `limit` each (low-stock.ts): merging them sorts at
      // most 2 x limit rows, and the products below a threshold of their own are sorted among themselves only.
      if (!sql.includes("low_stock_threshold")) expect(steps.join(" | "), `${name}: ${sql}`).not.toContain("TEMP B-TREE");
      const scanned = steps.map((step) => /^SCAN (\S+)$/.exec(step)?.[1]).filter((table) => table && !/^(\(subquery-\d+\)|skip)$/.test(table));
      expect(scanned.filter((table) => table !== "order_status_totals"), `${name}: ${steps.join(" | ")}`).toEqual([]);
    }
  });
});

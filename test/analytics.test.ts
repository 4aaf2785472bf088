import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { db } from "../src/db/client";
import { loadSalesReport } from "../src/features/analytics/analytics.service";
import { api, createAdmin, registerUser, unique, type TestUser } from "./helpers";
import { insertCategory, insertProduct as insertFixtureProduct } from "./fixtures";

/**
 * Fixture orders sit at fixed hours of days counted back from yesterday, so every figure is known exactly whatever
 * the time of day the suite runs: a day offset `k` means (today - 1 - k) at the given UTC hour.
 */
const DAY_MS = 86_400_000;
const todayStart = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
const at = (k: number, hour: number, minute = 0) => new Date(todayStart - (k + 1) * DAY_MS + hour * 3_600_000 + minute * 60_000).toISOString();
const dayOf = (k: number) => at(k, 0).slice(0, 10);

async function insertUser(): Promise<number> {
  const name = unique("buyer");
  const row = await env.DB.prepare("INSERT INTO users (username, email, password_hash) VALUES (?, ?, 'x') RETURNING id")
    .bind(name, `${name}@example.com`)
    .first<{ id: number }>();
  return row!.id;
}

const insertProduct = (name: string, categoryId: number, pricePaise: number, stock: number, isActive = true) =>
  insertFixtureProduct({ name, categoryId, pricePaise, stock, isActive });

interface FixtureOrder {
  id: number;
  orderNumber: string;
  totalPaise: number;
  status: string;
  paymentStatus: string;
  createdAt: string;
  lines: number;
}

/** An order with its lines, total = sum of line subtotals at each product's price. */
async function insertOrder(
  userId: number,
  status: string,
  paymentStatus: string,
  createdAt: string,
  lines: Array<[productId: number, pricePaise: number, quantity: number]>,
): Promise<FixtureOrder> {
  const orderNumber = `ORD-${crypto.randomUUID().replace(/-/g, "").slice(0, 12).toUpperCase()}`;
  const totalPaise = lines.reduce((sum, [, price, qty]) => sum + price * qty, 0);
  const order = await env.DB.prepare(
    `INSERT INTO orders (user_id, order_number, total_paise, status, payment_status, shipping_address, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, '1 Test St', ?, ?) RETURNING id`,
  )
    .bind(userId, orderNumber, totalPaise, status, paymentStatus, createdAt, createdAt)
    .first<{ id: number }>();
  await env.DB.batch(
    lines.map(([productId, price, qty]) =>
      env.DB.prepare("INSERT INTO order_items (order_id, product_id, quantity, price_paise, subtotal_paise) VALUES (?, ?, ?, ?, ?)").bind(
        order!.id,
        productId,
        qty,
        price,
        price * qty,
      ),
    ),
  );
  return { id: order!.id, orderNumber, totalPaise, status, paymentStatus, createdAt, lines: lines.length };
}

const asOrderList = (o: FixtureOrder) => ({
  id: o.id,
  order_number: o.orderNumber,
  total_amount: (o.totalPaise / 100).toFixed(2),
  status: o.status,
  payment_status: o.paymentStatus,
  items_count: o.lines,
  created_at: o.createdAt,
});

let admin: TestUser;
let customer: TestUser;
const ids: Record<string, number> = {};
const placed: Record<string, FixtureOrder> = {};

beforeAll(async () => {
  admin = await createAdmin();
  customer = await registerUser("customer");
  const phones = await insertCategory("Phones");
  const cables = await insertCategory("Cables");
  const P = { p1: 10_000, p2: 25_050, p3: 99_999, p4: 500, p5: 1_000 };
  ids.p1 = await insertProduct("Laptop", phones, P.p1, 50);
  ids.p2 = await insertProduct("Phone", phones, P.p2, 5);
  ids.p3 = await insertProduct("Camera", cables, P.p3, 0);
  ids.p4 = await insertProduct("Retired cable", cables, P.p4, 3, false);
  ids.p5 = await insertProduct("USB cable", cables, P.p5, 9);
  ids.p6 = await insertProduct("Charger", cables, 2_000, 10);

  const buyer = await insertUser();
  // Paid, counted everywhere.
  placed.o1 = await insertOrder(buyer, "paid", "success", at(0, 10), [[ids.p1, P.p1, 2], [ids.p2, P.p2, 1]]);
  placed.o2 = await insertOrder(buyer, "delivered", "success", at(0, 14), [[ids.p3, P.p3, 1]]);
  placed.o3 = await insertOrder(buyer, "shipped", "success", at(2, 12), [[ids.p1, P.p1, 3], [ids.p5, P.p5, 4]]);
  // Never paid, refunded, or cancelled before payment: no revenue, not sold.
  placed.o4 = await insertOrder(buyer, "payment_failed", "failed", at(2, 13), [[ids.p1, P.p1, 10]]);
  placed.o5 = await insertOrder(buyer, "cancelled", "refunded", at(9, 11), [[ids.p2, P.p2, 5]]);
  placed.o6 = await insertOrder(buyer, "cancelled", "pending", at(9, 12), [[ids.p3, P.p3, 7]]);
  // Paid long ago: in the revenue, outside the default 30-day report.
  placed.o7 = await insertOrder(buyer, "processing", "success", at(39, 9), [[ids.p5, P.p5, 1], [ids.p4, P.p4, 2]]);
  placed.o8 = await insertOrder(buyer, "pending", "pending", at(0, 16), [[ids.p1, P.p1, 20]]);
});

describe("GET /api/products/analytics/", () => {
  it("computes every figure from paid orders only", async () => {
    const res = await api("GET", "/api/products/analytics/", { token: admin.access });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      // o1 450.50 + o2 999.99 + o3 340.00 + o7 20.00
      total_revenue: "1810.49",
      orders_by_status: [
        { status: "cancelled", count: 2 },
        { status: "delivered", count: 1 },
        { status: "paid", count: 1 },
        { status: "payment_failed", count: 1 },
        { status: "pending", count: 1 },
        { status: "processing", count: 1 },
        { status: "shipped", count: 1 },
      ],
      // Ties on units sold go to the lower product id.
      top_products: [
        { product__name: "Laptop", product__id: ids.p1, total_sold: 5, revenue: "500.00" },
        { product__name: "USB cable", product__id: ids.p5, total_sold: 5, revenue: "50.00" },
        { product__name: "Retired cable", product__id: ids.p4, total_sold: 2, revenue: "10.00" },
        { product__name: "Phone", product__id: ids.p2, total_sold: 1, revenue: "250.50" },
        { product__name: "Camera", product__id: ids.p3, total_sold: 1, revenue: "999.99" },
      ],
      // Active and below 10 only: the inactive product and the one with exactly 10 are left out.
      low_stock_products: [
        { id: ids.p3, name: "Camera", stock: 0, category__name: "Cables" },
        { id: ids.p2, name: "Phone", stock: 5, category__name: "Phones" },
        { id: ids.p5, name: "USB cable", stock: 9, category__name: "Cables" },
      ],
      recent_orders: ["o8", "o2", "o1", "o4", "o3", "o6", "o5", "o7"].map((k) => asOrderList(placed[k])),
      total_products: 6,
      total_categories: 2,
      // the unpaid orders here are days old, long past expiring (test/console-api.test.ts counts fresh ones)
      unpaid_expiring_soon: 0,
    });
  });
});

describe("GET /api/orders/sales_report/", () => {
  it("covers the last 30 days by default, one entry per UTC day, oldest first", async () => {
    const res = await api("GET", "/api/orders/sales_report/", { token: admin.access });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      period_days: 30,
      total_orders: 3,
      total_revenue: "1790.49",
      daily_breakdown: [
        { day: dayOf(2), total: "340.00", count: 1 },
        { day: dayOf(0), total: "1450.49", count: 2 },
      ],
    });
  });

  it("narrows and widens the window with days", async () => {
    const two = await api("GET", "/api/orders/sales_report/?days=2", { token: admin.access });
    expect(two.status).toBe(200);
    expect(two.body).toEqual({
      period_days: 2,
      total_orders: 2,
      total_revenue: "1450.49",
      daily_breakdown: [{ day: dayOf(0), total: "1450.49", count: 2 }],
    });
    const year = await api("GET", "/api/orders/sales_report/?days=365", { token: admin.access });
    expect(year.body).toEqual({
      period_days: 365,
      total_orders: 4,
      total_revenue: "1810.49",
      daily_breakdown: [
        { day: dayOf(39), total: "20.00", count: 1 },
        { day: dayOf(2), total: "340.00", count: 1 },
        { day: dayOf(0), total: "1450.49", count: 2 },
      ],
    });
  });

  it("answers zeros when no paid order falls in the window", async () => {
    // Any window reaching back from the real now holds yesterday's orders; this one starts after the newest.
    const report = await loadSalesReport(db(env.DB), 5, new Date(at(-100, 0)));
    expect(report).toEqual({ period_days: 5, total_orders: 0, total_revenue: "0.00", daily_breakdown: [] });
  });

  it("counts an order placed exactly at the start of the window", async () => {
    const now = new Date(at(2, 12));
    const report = await loadSalesReport(db(env.DB), 3, new Date(now.getTime() + 3 * DAY_MS));
    expect(report).toMatchObject({ total_orders: 3, total_revenue: "1790.49" });
  });

  it("rejects days that are not a whole number from 1 to 365", async () => {
    const cases: Array<[string, string]> = [
      ["abc", "A valid integer is required."],
      ["1.5", "A valid integer is required."],
      ["", "A valid integer is required."],
      ["1&days=2", "A valid integer is required."],
      ["0", "Ensure this value is greater than or equal to 1."],
      ["-5", "Ensure this value is greater than or equal to 1."],
      ["366", "Ensure this value is less than or equal to 365."],
    ];
    for (const [days, message] of cases) {
      const res = await api("GET", `/api/orders/sales_report/?days=${days}`, { token: admin.access });
      expect(res.status, `days=${days}`).toBe(400);
      expect(res.body, `days=${days}`).toEqual({ days: [message] });
    }
  });
});

describe("analytics access", () => {
  const routes = ["/api/products/analytics/", "/api/orders/sales_report/", "/api/orders/sales_report/?days=abc"];

  it("asks anonymous callers to authenticate", async () => {
    for (const path of routes) {
      const res = await api("GET", path);
      expect(res.status, path).toBe(401);
      expect(res.body, path).toEqual({ detail: "Authentication credentials were not provided." });
    }
  });

  it("refuses a tampered token", async () => {
    for (const path of routes) {
      const res = await api("GET", path, { token: `${admin.access.slice(0, -2)}xx` });
      expect(res.status, path).toBe(401);
      expect(res.body, path).toMatchObject({ code: "token_not_valid" });
    }
  });

  it("forbids customers", async () => {
    for (const path of routes) {
      const res = await api("GET", path, { token: customer.access });
      expect(res.status, path).toBe(403);
      expect(res.body, path).toEqual({ detail: "You do not have permission to perform this action." });
    }
  });

  it("documents both routes as admin-only in the OpenAPI document", async () => {
    const { body } = await api("GET", "/openapi.json");
    for (const path of ["/api/products/analytics/", "/api/orders/sales_report/"]) {
      const op = body.paths[path].get;
      expect(op.security, path).toEqual([{ Bearer: [] }]);
      expect(Object.keys(op.responses), path).toEqual(expect.arrayContaining(["200", "401", "403"]));
    }
    expect(body.paths["/api/orders/sales_report/"].get.parameters).toEqual([
      expect.objectContaining({ name: "days", in: "query", required: false }),
    ]);
  });
});

// Last, because it adds orders that would change the exact figures above.
describe("dashboard limits", () => {
  it("keeps the 10 best sellers and the 10 newest orders", async () => {
    const category = await insertCategory(unique("Bulk"));
    const buyer = await insertUser();
    const bulk: number[] = [];
    const newest: FixtureOrder[] = [];
    for (let i = 0; i < 10; i++) {
      const id = await insertProduct(unique("Bulk "), category, 100, 100);
      bulk.push(id);
      newest.push(await insertOrder(buyer, "paid", "success", at(0, 20, i), [[id, 100, 3]]));
    }
    const res = await api("GET", "/api/products/analytics/", { token: admin.access });
    expect(res.body.top_products.map((p: { product__id: number }) => p.product__id)).toEqual([ids.p1, ids.p5, ...bulk].slice(0, 10));
    expect(res.body.top_products[2]).toMatchObject({ total_sold: 3, revenue: "3.00" });
    expect(res.body.recent_orders).toEqual(newest.reverse().map(asOrderList));
    expect(res.body.total_revenue).toBe("1840.49");
  });
});

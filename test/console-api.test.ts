/**
 * The API additions the shop console needs (issue 22): order list filters and their CSV export, a per-product
 * low-stock threshold, the dashboard's "about to expire" counter and the payment ids on an order.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import worker from "../src/index";
import { meterRequest } from "../src/lib/cost/report";
import { api, createAdmin, createProduct, registerUser, type TestUser } from "./helpers";
import { insertProduct } from "./fixtures";

let admin: TestUser;
let alice: TestUser;
let bob: TestUser;

/** An order row written directly (the list and export read rows; how they were placed does not matter here). */
async function insertOrder(userId: number, opts: { number: string; createdAt: string; status?: string; totalPaise?: number; address?: string }) {
  const row = await env.DB.prepare(
    `INSERT INTO orders (user_id, order_number, total_paise, status, payment_status, shipping_address, hold_key, created_at)
     VALUES (?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id`,
  )
    .bind(userId, opts.number, opts.totalPaise ?? 10_000, opts.status ?? "pending", opts.address ?? "1 Test Road", crypto.randomUUID(), opts.createdAt)
    .first<{ id: number }>();
  return row!.id;
}

/** `count` orders of `userId`, one per minute back from `newest`, numbered `${prefix}-<i>`, in one statement. */
async function insertOrders(userId: number, count: number, prefix: string, newest: string, status = "delivered") {
  await env.DB.prepare(
    `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?1)
     INSERT INTO orders (user_id, order_number, total_paise, status, payment_status, shipping_address, hold_key, created_at)
     SELECT ?2, ?3 || '-' || i, 1000 + i, ?5, 'success', 'Bulk Road', ?3 || '-hold-' || i,
       strftime('%Y-%m-%dT%H:%M:%fZ', ?4, '-' || i || ' minutes') FROM seq`,
  )
    .bind(count, userId, prefix, newest, status)
    .run();
}

async function rowsRead(path: string, token: string) {
  const ctx = createExecutionContext();
  const request = new Request(`https://shop.test${path}`, { headers: { Authorization: `Bearer ${token}` } });
  const { response, cost } = await meterRequest(worker.fetch, request, env, ctx);
  const body = await response.json<any>();
  await waitOnExecutionContext(ctx);
  return { status: response.status, body, rows: cost.rows_read ?? 0 };
}

beforeAll(async () => {
  admin = await createAdmin();
  alice = await registerUser("alice");
  bob = await registerUser("bob");
  await insertOrder(alice.id, { number: "ORD-ALICE00001", createdAt: "2030-03-01T10:00:00.000Z", status: "paid" });
  await insertOrder(alice.id, { number: "ORD-ALICE00002", createdAt: "2030-03-02T23:59:59.000Z", status: "pending" });
  await insertOrder(bob.id, { number: "ORD-BOB0000001", createdAt: "2030-03-03T00:00:00.000Z", status: "paid" });
});

describe("GET /api/orders/ filters", () => {
  const numbers = (body: any) => body.results.map((o: any) => o.order_number);

  it("finds an order by its number, in any case", async () => {
    const res = await api("GET", "/api/orders/?search=ord-alice00002", { token: admin.access });
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(1);
    expect(numbers(res.body)).toEqual(["ORD-ALICE00002"]);
  });

  it("finds a customer's orders by username or email, newest first", async () => {
    for (const term of [alice.username.toUpperCase(), alice.email]) {
      const res = await api("GET", `/api/orders/?search=${encodeURIComponent(term)}`, { token: admin.access });
      expect(res.body.count).toBe(2);
      expect(numbers(res.body)).toEqual(["ORD-ALICE00002", "ORD-ALICE00001"]);
    }
  });

  it("filters by status and by a range of UTC days (both ends included)", async () => {
    const paid = await api("GET", "/api/orders/?status=paid&created_from=2030-03-01&created_to=2030-03-03", { token: admin.access });
    expect(numbers(paid.body)).toEqual(["ORD-BOB0000001", "ORD-ALICE00001"]);
    expect(paid.body.count).toBe(2);
    const days = await api("GET", "/api/orders/?created_from=2030-03-02&created_to=2030-03-02", { token: admin.access });
    expect(numbers(days.body)).toEqual(["ORD-ALICE00002"]);
    expect(days.body.count).toBe(1);
  });

  it("counts a status-only filter from the rollup, equal to the orders listed", async () => {
    const res = await api("GET", "/api/orders/?status=payment_failed", { token: admin.access });
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(res.body.results.length);
  });

  it("keeps a customer to their own orders whatever they search for", async () => {
    const res = await api("GET", `/api/orders/?search=${alice.username}`, { token: bob.access });
    expect(res.status).toBe(200);
    expect(res.body.count).toBe(0);
    const own = await api("GET", "/api/orders/?status=paid", { token: bob.access });
    expect(numbers(own.body)).toEqual(["ORD-BOB0000001"]);
  });

  it("answers 400 naming the field for an unknown status or a malformed date", async () => {
    const status = await api("GET", "/api/orders/?status=lost", { token: admin.access });
    expect(status.status).toBe(400);
    expect(status.body.status[0]).toMatch(/valid choice/);
    const date = await api("GET", "/api/orders/?created_from=2030-02-30", { token: admin.access });
    expect(date.status).toBe(400);
    expect(date.body).toHaveProperty("created_from");
  });

  it("reads about as many rows as it returns, not every order (rows read stay flat)", async () => {
    const busy = await registerUser("busy");
    await insertOrders(busy.id, 2000, "ORD-BULK", "2030-06-01T12:00:00.000Z");
    const byNumber = await rowsRead("/api/orders/?search=ORD-ALICE00001", admin.access);
    expect(byNumber.body.count).toBe(1);
    expect(byNumber.rows).toBeLessThan(30);
    const byCustomer = await rowsRead(`/api/orders/?search=${alice.email}`, admin.access);
    expect(byCustomer.body.count).toBe(2);
    expect(byCustomer.rows).toBeLessThan(30);
    const byStatus = await rowsRead("/api/orders/?status=paid&page_size=10", admin.access);
    expect(byStatus.body.count).toBe(2);
    expect(byStatus.rows).toBeLessThan(40);
    const byDay = await rowsRead("/api/orders/?created_from=2030-03-01&created_to=2030-03-03", admin.access);
    expect(byDay.body.count).toBe(3);
    expect(byDay.rows).toBeLessThan(40);
  });
});

describe("GET /api/orders/export/ (CSV)", () => {
  it("streams every matching order as CSV, newest first, across many chunks", async () => {
    const heavy = await registerUser("heavy");
    await insertOrders(heavy.id, 1203, "ORD-CSV", "2031-01-10T12:00:00.000Z", "shipped");
    const res = await api("GET", `/api/orders/export/?search=${heavy.username}`, { token: admin.access });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/csv/);
    expect(res.headers.get("Content-Disposition")).toMatch(/attachment; filename="orders-\d{4}-\d{2}-\d{2}\.csv"/);
    const lines = (res.body as string).trimEnd().split("\r\n");
    expect(lines[0]).toBe("order_number,created_at,status,payment_status,total_amount,items_count,customer_username,customer_email,shipping_address");
    expect(lines).toHaveLength(1204);
    const orderNumbers = lines.slice(1).map((l) => l.split(",")[0]);
    expect(orderNumbers).toEqual(Array.from({ length: 1203 }, (_, i) => `ORD-CSV-${i + 1}`));
    expect(lines[1]).toBe(`ORD-CSV-1,2031-01-10T11:59:00.000Z,shipped,success,10.01,0,${heavy.username},${heavy.email},Bulk Road`);
  });

  it("applies the list's filters and quotes cells a spreadsheet would misread", async () => {
    const carol = await registerUser("carol");
    await insertOrder(carol.id, { number: "ORD-CAROL0001", createdAt: "2032-05-05T05:05:05.000Z", status: "paid", address: '=HYPERLINK("x"), Flat 2' });
    await insertOrder(carol.id, { number: "ORD-CAROL0002", createdAt: "2032-05-06T05:05:05.000Z", status: "cancelled" });
    const res = await api("GET", `/api/orders/export/?search=${carol.email}&status=paid`, { token: admin.access });
    const lines = (res.body as string).trimEnd().split("\r\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^ORD-CAROL0001,.*,"'=HYPERLINK\(""x""\), Flat 2"$/);
  });

  it("is for admins only, and refuses bad filters with 400", async () => {
    expect((await api("GET", "/api/orders/export/", { token: alice.access })).status).toBe(403);
    const bad = await api("GET", "/api/orders/export/?created_to=yesterday", { token: admin.access });
    expect(bad.status).toBe(400);
    expect(bad.body).toHaveProperty("created_to");
  });
});

describe("low_stock_threshold", () => {
  it("lists a product below its own threshold, and not one above it, whatever the default says", async () => {
    const piano = await createProduct(admin.access, { stock: 3, low_stock_threshold: 2 });
    const pins = await createProduct(admin.access, { stock: 40, low_stock_threshold: 50 });
    const plain = await createProduct(admin.access, { stock: 9 });
    const res = await api("GET", "/api/products/low_stock/", { token: admin.access });
    expect(res.status).toBe(200);
    const ids = res.body.map((p: any) => p.id);
    expect(ids).toContain(pins.id);
    expect(ids).toContain(plain.id);
    expect(ids).not.toContain(piano.id);
    expect(res.body.find((p: any) => p.id === pins.id).low_stock_threshold).toBe(50);
    expect(res.body.find((p: any) => p.id === plain.id).low_stock_threshold).toBeNull();
    // the emptiest first
    const stocks = res.body.map((p: any) => p.stock);
    expect(stocks).toEqual([...stocks].sort((a: number, b: number) => a - b));

    const dashboard = await api("GET", "/api/products/analytics/", { token: admin.access });
    const onDashboard = dashboard.body.low_stock_products.map((p: any) => p.id);
    expect(onDashboard).toContain(pins.id);
    expect(onDashboard).not.toContain(piano.id);
  });

  it("is shown on the product and changed with PATCH (null returns to the default)", async () => {
    const product = await createProduct(admin.access, { stock: 5 });
    const loaded = await api("GET", `/api/products/${product.id}/`, { token: admin.access });
    expect(loaded.body.low_stock_threshold).toBeNull();
    const set = await api("PATCH", `/api/products/${product.id}/`, {
      token: admin.access,
      body: { low_stock_threshold: 3 },
      headers: { "If-Match": loaded.headers.get("ETag")! },
    });
    expect(set.status).toBe(200);
    expect(set.body.low_stock_threshold).toBe(3);
    let low = await api("GET", "/api/products/low_stock/", { token: admin.access });
    expect(low.body.map((p: any) => p.id)).not.toContain(product.id);
    await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { low_stock_threshold: null } });
    low = await api("GET", "/api/products/low_stock/", { token: admin.access });
    expect(low.body.map((p: any) => p.id)).toContain(product.id);
  });

  it("refuses a negative threshold with a field error", async () => {
    const product = await createProduct(admin.access);
    const res = await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { low_stock_threshold: -1 } });
    expect(res.status).toBe(400);
    expect(res.body.low_stock_threshold[0]).toMatch(/greater than or equal to 0/);
  });

  it("keeps the low-stock list's rows read near its limit with many products that have thresholds", async () => {
    const category = (await api("POST", "/api/categories/", { token: admin.access, body: { name: "Thresholds" } })).body.id;
    await env.DB.prepare(
      `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 1500)
       INSERT INTO products (category_id, name, slug, price_paise, stock, is_active, low_stock_threshold)
       SELECT ?1, 'Bulk ' || i, 'threshold-bulk-' || i, 100, 1000 + i, 1, CASE WHEN i % 2 = 0 THEN 5 ELSE NULL END FROM seq`,
    )
      .bind(category)
      .run();
    await insertProduct({ stock: 0 });
    const res = await rowsRead("/api/products/low_stock/?limit=3", admin.access);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(3);
    expect(res.rows).toBeLessThan(100);
  });
});

describe("GET /api/products/?is_active=", () => {
  it("lets an admin list only the inactive or only the active products; a customer still sees active ones only", async () => {
    const category = await api("POST", "/api/categories/", { token: admin.access, body: { name: "Hidden things" } });
    const hidden = await createProduct(admin.access, { category: category.body.id, is_active: false });
    const shown = await createProduct(admin.access, { category: category.body.id });
    const ids = (res: any) => res.body.results.map((p: any) => p.id);
    const inactive = await api("GET", `/api/products/?category=${category.body.slug}&is_active=false`, { token: admin.access });
    expect(ids(inactive)).toEqual([hidden.id]);
    expect(inactive.body.count).toBe(1);
    const active = await api("GET", `/api/products/?category=${category.body.slug}&is_active=true`, { token: admin.access });
    expect(ids(active)).toEqual([shown.id]);
    expect(active.body.count).toBe(1);
    const customer = await api("GET", `/api/products/?category=${category.body.slug}&is_active=false`, { token: alice.access });
    expect(ids(customer)).toEqual([shown.id]);
    expect((await api("GET", "/api/products/?is_active=maybe", { token: admin.access })).body).toHaveProperty("is_active");
  });
});

describe("the console's other reads", () => {
  it("counts unpaid orders about to expire on the dashboard", async () => {
    const dave = await registerUser("dave");
    const before = (await api("GET", "/api/products/analytics/", { token: admin.access })).body.unpaid_expiring_soon;
    // PENDING_ORDER_TTL_SECONDS is 1800: an order 25 minutes old expires within 10 minutes, one 5 minutes old does not
    await insertOrder(dave.id, { number: "ORD-DAVE000001", createdAt: new Date(Date.now() - 25 * 60_000).toISOString(), status: "pending" });
    await insertOrder(dave.id, { number: "ORD-DAVE000002", createdAt: new Date(Date.now() - 5 * 60_000).toISOString(), status: "pending" });
    const after = (await api("GET", "/api/products/analytics/", { token: admin.access })).body.unpaid_expiring_soon;
    expect(after - before).toBe(1);
  });

  it("shows an order's payment record with its Razorpay ids, null before one exists", async () => {
    const erin = await registerUser("erin");
    const orderId = await insertOrder(erin.id, { number: "ORD-ERIN000001", createdAt: "2030-01-01T00:00:00.000Z" });
    expect((await api("GET", `/api/orders/${orderId}/`, { token: admin.access })).body.payment).toBeNull();
    await env.DB.prepare(
      "INSERT INTO payments (order_id, razorpay_order_id, razorpay_payment_id, amount_paise, status) VALUES (?, 'order_TEST1', 'pay_TEST1', 10000, 'success')",
    )
      .bind(orderId)
      .run();
    const res = await api("GET", `/api/orders/${orderId}/`, { token: erin.access });
    expect(res.body.payment).toMatchObject({ status: "success", amount: "100.00", razorpay_order_id: "order_TEST1", razorpay_payment_id: "pay_TEST1", razorpay_refund_id: null });
  });
});

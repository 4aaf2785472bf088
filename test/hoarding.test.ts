/**
 * Issue 28, item 2: stock cannot be hoarded by throwaway accounts — a per-product purchase limit per customer,
 * registration and new anonymous carts throttled per client IP, and a cap on the units one address holds in unpaid
 * orders across accounts.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { api, createAdmin, createProduct, PASSWORD, registerUser, unique, type TestUser } from "./helpers";
import { expectInvariant, fillCart, insertProduct, stockOf } from "./fixtures";
import { envWith } from "./platform-fakes";

const address = { shipping_address: "1 Hoard St, City, State, 12345, Country" };
let net = 0;
/** A client address no other test of this file uses. */
const freshIp = () => `203.0.${113 + Math.floor(net / 250)}.${(net++ % 250) + 1}`;
const from = (ip?: string): Record<string, string> => (ip ? { "CF-Connecting-IP": ip } : {});

const addToCart = (user: TestUser, product_id: number, quantity: number, ip?: string) =>
  api("POST", "/api/cart/add/", { token: user.access, body: { product_id, quantity }, headers: from(ip) });
const checkout = (user: TestUser, ip?: string) =>
  api("POST", "/api/orders/create_order/", { token: user.access, body: address, headers: from(ip) });

function registerFrom(ip: string) {
  const username = unique("reg");
  return api("POST", "/api/auth/register/", {
    body: { username, email: `${username}@example.com`, password: PASSWORD, password2: PASSWORD },
    headers: from(ip),
  });
}

describe("max_per_customer", () => {
  it("is a documented product field, null by default, settable and clearable by admins", async () => {
    const admin = await createAdmin();
    const plain = await createProduct(admin.access);
    expect((await api("GET", `/api/products/${plain.id}/`)).body.max_per_customer).toBeNull();
    const limited = await createProduct(admin.access, { max_per_customer: 2 });
    expect((await api("GET", `/api/products/${limited.id}/`, { token: admin.access })).body.max_per_customer).toBe(2);
    const bad = await api("PATCH", `/api/products/${limited.id}/`, { token: admin.access, body: { max_per_customer: 0 } });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body)).toEqual(["max_per_customer"]);
    const cleared = await api("PATCH", `/api/products/${limited.id}/`, { token: admin.access, body: { max_per_customer: null } });
    expect(cleared.status).toBe(200);
    expect(cleared.body.max_per_customer).toBeNull();
    const doc = (await api("GET", "/openapi.json")).body;
    expect(doc.components.schemas.ProductDetail.properties.max_per_customer.description).toMatch(/one customer/);
  });

  it("add to cart refuses more than the limit with 400 naming quantity, counting the customer's live orders", async () => {
    const admin = await createAdmin();
    const product = await createProduct(admin.access, { stock: 50, max_per_customer: 3 });
    const user = await registerUser();
    const tooMany = await addToCart(user, product.id, 4);
    expect(tooMany.status).toBe(400);
    expect(Object.keys(tooMany.body)).toEqual(["quantity"]);
    expect((await addToCart(user, product.id, 2)).status).toBe(200);
    expect((await addToCart(user, product.id, 2)).body).toHaveProperty("quantity");
    const order = await checkout(user);
    expect(order.status).toBe(201);
    // 2 in a live (unpaid) order: one more fits, two do not
    expect((await addToCart(user, product.id, 2)).status).toBe(400);
    expect((await addToCart(user, product.id, 1)).status).toBe(200);
    const item = (await api("GET", "/api/cart/", { token: user.access })).body.items[0];
    const update = await api("PATCH", `/api/cart/items/${item.id}/`, { token: user.access, body: { quantity: 2 } });
    expect(update.status).toBe(400);
    expect(update.body).toHaveProperty("quantity");
    // a cancelled order no longer counts
    expect((await api("POST", `/api/orders/${order.body.id}/cancel/`, { token: user.access })).status).toBe(200);
    expect((await api("PATCH", `/api/cart/items/${item.id}/`, { token: user.access, body: { quantity: 3 } })).status).toBe(200);
  });

  it("create_order refuses a cart past the limit with 400 naming quantity, and holds no stock", async () => {
    const admin = await createAdmin();
    const product = await createProduct(admin.access, { stock: 20, max_per_customer: 5 });
    const user = await registerUser();
    await fillCart(user.id, [[product.id, 3]]);
    expect((await checkout(user)).status).toBe(201);
    await fillCart(user.id, [[product.id, 3]]); // written around the cart's own check
    const res = await checkout(user);
    expect(res.status).toBe(400);
    expect(res.body.quantity[0]).toMatch(/limited to 5 per customer/);
    expect((await stockOf(product.id)).available).toBe(17);
    await expectInvariant(product.id);
    // another customer is not limited by the first one's orders
    const other = await registerUser();
    await fillCart(other.id, [[product.id, 5]]);
    expect((await checkout(other)).status).toBe(201);
  });

  it("a login merges an anonymous cart only up to what the customer may still buy", async () => {
    const admin = await createAdmin();
    const [limited, bought, free] = await Promise.all([
      createProduct(admin.access, { stock: 50, max_per_customer: 5 }),
      createProduct(admin.access, { stock: 50, max_per_customer: 2 }),
      createProduct(admin.access, { stock: 50 }),
    ]);
    const user = await registerUser();
    await fillCart(user.id, [[limited.id, 3], [bought.id, 2]]);
    expect((await checkout(user)).status).toBe(201); // 3 of 5 and 2 of 2 in a live order
    await addToCart(user, limited.id, 1); // and 1 more in the cart: 1 left
    // Signed out, the shopper fills an anonymous cart: nobody knows yet whose limits apply.
    const guest = await api("POST", "/api/cart/add/", { body: { product_id: limited.id, quantity: 5 } });
    const headers = { "X-Cart-Id": guest.headers.get("x-cart-id")! };
    for (const [product_id, quantity] of [[bought.id, 2], [free.id, 7]]) {
      expect((await api("POST", "/api/cart/add/", { headers, body: { product_id, quantity } })).status).toBe(200);
    }
    const signedIn = await api("POST", "/api/auth/login/", { body: { username: user.username, password: PASSWORD }, headers });
    expect(signedIn.status).toBe(200);
    const cart = await api("GET", "/api/cart/", { token: signedIn.body.access });
    const lines = cart.body.items.map((i: { product: { id: number }; quantity: number }) => [i.product.id, i.quantity]);
    expect(lines).toEqual([[limited.id, 2], [free.id, 7]]); // 3 in orders + 2 = 5; nothing left of `bought`
    expect((await checkout({ ...user, access: signedIn.body.access })).status).toBe(201);
  });

  it("concurrent checkouts of one customer never pass the limit together", async () => {
    const admin = await createAdmin();
    const product = await createProduct(admin.access, { stock: 50, max_per_customer: 3 });
    const user = await registerUser();
    await fillCart(user.id, [[product.id, 3]]);
    const results = await Promise.all(Array.from({ length: 4 }, () => checkout(user)));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    await fillCart(user.id, [[product.id, 1]]);
    const more = await Promise.all(Array.from({ length: 3 }, () => checkout(user)));
    expect(more.filter((r) => r.status === 201)).toHaveLength(0);
    expect((await stockOf(product.id)).available).toBe(47);
    await expectInvariant(product.id);
  });
});

describe("registration throttle per client IP", () => {
  it("10 registrations an hour from one address, then 429 with Retry-After; other addresses are not affected", async () => {
    const ip = freshIp();
    for (let i = 0; i < 10; i++) expect((await registerFrom(ip)).status).toBe(201);
    const refused = await registerFrom(ip);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(3000);
    expect((await registerFrom(freshIp())).status).toBe(201);
  });

  it("a parallel burst from one address creates at most 10 accounts", async () => {
    const ip = freshIp();
    const results = await Promise.all(Array.from({ length: 14 }, () => registerFrom(ip)));
    expect(results.filter((r) => r.status === 201).length).toBeLessThanOrEqual(10);
    expect(results.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(4);
  });

  it("a registration that fails gives its place back", async () => {
    const ip = freshIp();
    const taken = await registerUser();
    for (let i = 0; i < 10; i++) {
      const res = await api("POST", "/api/auth/register/", {
        body: { username: taken.username, email: `${unique("x")}@example.com`, password: PASSWORD, password2: PASSWORD },
        headers: from(ip),
      });
      expect(res.status).toBe(400);
    }
    expect((await registerFrom(ip)).status).toBe(201);
  });

  it("local requests (loopback address, or no CF-Connecting-IP at all) are not limited", async () => {
    for (const ip of ["127.0.0.1", "::1", undefined]) {
      for (let i = 0; i < 11; i++) {
        const username = unique("local");
        const res = await api("POST", "/api/auth/register/", {
          body: { username, email: `${username}@example.com`, password: PASSWORD, password2: PASSWORD },
          headers: from(ip),
        });
        expect(res.status, String(ip)).toBe(201);
      }
    }
  });
});

describe("new anonymous carts per client IP", () => {
  it("new anonymous carts: 3 an hour from one address (as configured), then 429; its carts keep working, other addresses too", async () => {
    const quota = envWith({ GUEST_CARTS_PER_IP_PER_HOUR: "3" });
    const product = await insertProduct({ stock: 50 });
    const retired = await insertProduct({ stock: 50, isActive: false });
    const ip = freshIp();
    const start = (productId: number, headers: Record<string, string> = {}) =>
      api("POST", "/api/cart/add/", { env: quota, body: { product_id: productId }, headers: { ...from(ip), ...headers } });
    expect((await start(retired)).status).toBe(400); // wrote nothing: does not count
    const started = await Promise.all([start(product), start(product), start(product), start(product), start(product)]);
    expect(started.map((r) => r.status).sort()).toEqual([200, 200, 200, 429, 429]);
    const refused = started.find((r) => r.status === 429)!;
    expect(Number(refused.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(refused.body.detail).toMatch(/Too many new carts from this address/);
    const kept = started.find((r) => r.status === 200)!;
    const again = await start(product, { "X-Cart-Id": kept.headers.get("x-cart-id")! });
    expect(again.status).toBe(200); // adding to a cart it has is not starting one
    expect(again.body.total_items).toBe(2);
    const carts = await env.DB.prepare("SELECT count(*) AS n FROM guest_carts").first<{ n: number }>();
    expect((await api("POST", "/api/cart/add/", { env: quota, body: { product_id: product }, headers: from(freshIp()) })).status).toBe(200);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM guest_carts").first<{ n: number }>())?.n).toBe(carts!.n + 1);
  });
});

describe("unpaid units per client IP", () => {
  it("ten accounts from one address try to buy all of a product with stock 50: they hold at most the cap; another address still buys", async () => {
    const ip = freshIp();
    const product = await insertProduct({ stock: 50 });
    const accounts: TestUser[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await registerFrom(ip);
      expect(res.status).toBe(201);
      accounts.push({ id: res.body.user.id, username: res.body.user.username, email: res.body.user.email, password: PASSWORD, ...res.body.tokens });
    }
    for (const account of accounts) expect((await addToCart(account, product, 5, ip)).status).toBe(200);
    const results = await Promise.all(accounts.map((account) => checkout(account, ip)));
    const placed = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 429);
    expect(placed.length).toBe(4);
    expect(refused.length).toBe(6);
    expect(refused[0].body.detail).toMatch(/held in unpaid orders from your network/);
    expect(Number(refused[0].headers.get("Retry-After"))).toBeGreaterThan(0);
    const held = placed.reduce((sum, r) => sum + r.body.items[0].quantity, 0);
    expect(held).toBe(20);
    expect((await stockOf(product)).available).toBe(30);
    // a buyer from another address still buys (up to that address's own cap)
    const buyerIp = freshIp();
    const buyer = await registerUser("buyer", from(buyerIp));
    expect((await addToCart(buyer, product, 20, buyerIp)).status).toBe(200);
    expect((await checkout(buyer, buyerIp)).status).toBe(201);
    expect((await stockOf(product)).available).toBe(10);
    await expectInvariant(product);
  });

  it("a cancelled order gives its units back to the address", async () => {
    const ip = freshIp();
    const product = await insertProduct({ stock: 100 });
    const first = await registerUser("a", from(ip));
    const second = await registerUser("b", from(ip));
    await fillCart(first.id, [[product, 20]]);
    const order = await checkout(first, ip);
    expect(order.status).toBe(201);
    await fillCart(second.id, [[product, 1]]);
    expect((await checkout(second, ip)).status).toBe(429);
    expect((await api("POST", `/api/orders/${order.body.id}/cancel/`, { token: first.access })).status).toBe(200);
    expect((await checkout(second, ip)).status).toBe(201);
  });

  it("local requests are not held to the cap", async () => {
    const product = await insertProduct({ stock: 100 });
    const user = await registerUser();
    await fillCart(user.id, [[product, 30]]);
    expect((await checkout(user, "127.0.0.1")).status).toBe(201);
  });
});

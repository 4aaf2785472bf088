/**
 * A flash sale (issue 25): a product's stock split over several inventory objects. Every test checks the invariant
 * of design.md over the sum of the shards (available + reserved + sold == total, sold == units of live orders in D1).
 */
import { createExecutionContext, env, runDurableObjectAlarm, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";
import { beforeAll, describe, expect, it, vi } from "vitest";
import worker from "../src/index";
import { productStock, shardStub } from "../src/inventory/inventory.client";
import { shardName } from "../src/inventory/inventory.shards";
import { meterRequest } from "../src/lib/cost/report";
import { runSweep } from "../src/features/sweep/sweep.service";
import { api, createAdmin, createProduct, registerUser, type TestUser } from "./helpers";
import { expectInvariant, fillCart, soldInD1, stockOf } from "./fixtures";
import { Faults, faultyEnv, sendWith } from "./crash-harness";

const address = { shipping_address: "1 Flash Sale Road, Bengaluru 560001" };
const checkout = (user: TestUser) => api("POST", "/api/orders/create_order/", { token: user.access, body: address });
const buyers = (n: number, prefix: string) => Promise.all(Array.from({ length: n }, () => registerUser(prefix)));

/** Each shard's own counts (the home, shard 0, knows how many there ever were). */
async function shardCounts(productId: number) {
  const home = await shardStub(env, productId, 0).getStock(productId, 0);
  return Promise.all(Array.from({ length: home.peak }, (_, s) => shardStub(env, productId, s).getStock(productId, s)));
}

const projected = async (productId: number) =>
  (await env.DB.prepare("SELECT stock, stock_version FROM products WHERE id = ?").bind(productId).first<{ stock: number; stock_version: number }>())!;

/** Waits (bounded by the projection's stated lag, with room for a loaded machine) until D1 shows `stock`. */
const expectProjection = (productId: number, stock: number) =>
  vi.waitFor(async () => expect((await projected(productId)).stock).toBe(stock), { timeout: 5_000, interval: 100 });

/** A checkout through the Worker's fetch entry in this isolate, with its I/O counted by the cost meter. */
async function meteredCheckout(user: TestUser) {
  const ctx = createExecutionContext();
  const request = new Request("https://shop.test/api/orders/create_order/", {
    method: "POST",
    // a real client address: a checkout that got past the sold-out check would also call the per-address ledger object
    headers: { Authorization: `Bearer ${user.access}`, "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.25" },
    body: JSON.stringify(address),
  });
  const { response, cost } = await meterRequest(worker.fetch, request, env, ctx);
  const body = await response.json<{ error: string }>();
  await waitOnExecutionContext(ctx);
  return { status: response.status, body, cost };
}

let admin: TestUser;
beforeAll(async () => {
  admin = await createAdmin();
});

describe("a product's stock over several shards", () => {
  it("sells exactly the last units: stock 7 over 8 shards, 50 concurrent buyers -> exactly 7 orders", async () => {
    const product = await createProduct(admin.access, { stock: 7, stock_shards: 8 });
    expect(product).toMatchObject({ stock: 7, stock_shards: 8 });
    const spread = await shardCounts(product.id);
    expect(spread.map((s) => s.available)).toEqual([1, 1, 1, 1, 1, 1, 1, 0]);

    const users = await buyers(50, "flash");
    for (const u of users) await fillCart(u.id, [[product.id, 1]]);
    const results = await Promise.all(users.map(checkout));

    expect(results.filter((r) => r.status === 201)).toHaveLength(7);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.every((r) => r.status === 400 && /^Insufficient stock for /.test(r.body.error))).toBe(true);
    const s = await expectInvariant(product.id);
    expect(s).toMatchObject({ available: 0, sold: 7, total: 7 });
    await expectProjection(product.id, 0);
  });

  it("sells a quantity no single shard holds, in parts from several shards", async () => {
    const product = await createProduct(admin.access, { stock: 3, stock_shards: 3 });
    const [user] = await buyers(1, "parts");
    await fillCart(user.id, [[product.id, 3]]);
    expect((await checkout(user)).status).toBe(201);
    expect((await shardCounts(product.id)).map((s) => s.sold)).toEqual([1, 1, 1]);
    expect(await expectInvariant(product.id)).toMatchObject({ available: 0, sold: 3 });
  });

  it("refuses a quantity above the sum of the shards and leaves every unit where it was", async () => {
    const product = await createProduct(admin.access, { stock: 5, stock_shards: 4 });
    const [user] = await buyers(1, "toomany");
    await fillCart(user.id, [[product.id, 6]]);
    const res = await checkout(user);
    expect(res).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^Insufficient stock for .*Requested: 6$/) } });
    expect((await shardCounts(product.id)).map((s) => s.available)).toEqual([2, 1, 1, 1]);
    expect(await expectInvariant(product.id)).toMatchObject({ available: 5, reserved: 0 });
  });

  it("answers a sold-out product at the edge, without any object call, and an admin restock clears it", async () => {
    const product = await createProduct(admin.access, { stock: 1, stock_shards: 2 });
    const [first, second, third] = await buyers(3, "soldout");
    for (const u of [first, second, third]) await fillCart(u.id, [[product.id, 1]]);
    expect((await checkout(first)).status).toBe(201);
    // Through the Worker's own entry with the cost meter, in this isolate: the first refusal asks the shards not
    // already seen empty (at least the home)...
    const refusedAfterAsking = await meteredCheckout(second);
    expect(refusedAfterAsking.status).toBe(400);
    expect(refusedAfterAsking.cost.do).toBeGreaterThanOrEqual(1);
    // ...and is remembered: the next buyer is refused with the same answer and no object call at all (neither the
    // product's shards nor the client address's ledger).
    const refusedAtEdge = await meteredCheckout(third);
    expect(refusedAtEdge.status).toBe(400);
    expect(refusedAtEdge.body.error).toBe(`Insufficient stock for ${product.name}. Available: 0, Requested: 1`);
    expect(refusedAtEdge.cost.do).toBe(0);

    await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { stock_adjustment: 4 } });
    expect((await checkout(third)).status).toBe(201);
    expect(await expectInvariant(product.id)).toMatchObject({ available: 3, sold: 2, total: 5 });
  });

  it("changing stock_shards while buyers check out loses and duplicates nothing", async () => {
    const product = await createProduct(admin.access, { stock: 40, stock_shards: 4 });
    const users = await buyers(30, "reshard");
    for (const u of users) await fillCart(u.id, [[product.id, 1]]);
    const patch = (stock_shards: number) => api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { stock_shards } });
    const [results, reshards] = await Promise.all([
      Promise.all(users.map(checkout)),
      (async () => [await patch(8), await patch(2), await patch(6), await patch(1), await patch(3)])(),
    ]);
    expect(reshards.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.filter((r) => r.status === 201)).toHaveLength(30);
    const s = await expectInvariant(product.id);
    expect(s).toMatchObject({ available: 10, sold: 30, total: 40 });
    const shards = await shardCounts(product.id);
    expect(shards).toHaveLength(8); // every shard it ever had is still counted (retired ones keep their sold units)
    expect(shards.slice(3).every((sh) => sh.available === 0)).toBe(true); // retired shards hold no free units
    await expectProjection(product.id, 10);
  });

  it("cancels, expiry and admin If-Match edits keep the sum exact", async () => {
    const product = await createProduct(admin.access, { stock: 20, stock_shards: 4 });
    const users = await buyers(8, "edits");
    for (const u of users) await fillCart(u.id, [[product.id, 2]]);
    const orders = (await Promise.all(users.map(checkout))).map((r) => r.body);
    expect(orders.every((o) => o.id)).toBe(true);
    expect((await stockOf(product.id)).available).toBe(4);

    // The owner cancels two; the sweep expires two more (as if unpaid past the TTL).
    for (const i of [0, 1]) expect((await api("POST", `/api/orders/${orders[i].id}/cancel/`, { token: users[i].access })).status).toBe(200);
    await env.DB.prepare(`UPDATE orders SET created_at = '2000-01-01T00:00:00.000Z' WHERE id IN (?, ?)`).bind(orders[2].id, orders[3].id).run();
    await runSweep(env);
    expect(await expectInvariant(product.id)).toMatchObject({ available: 12, sold: 8, total: 20 });

    // A form loaded before a sale: 412, nothing changes. A fresh one: the stock becomes exactly what was typed.
    await expectProjection(product.id, 12);
    const loaded = await api("GET", `/api/products/${product.id}/`, { token: admin.access });
    await fillCart(users[4].id, [[product.id, 1]]);
    expect((await checkout(users[4])).status).toBe(201);
    const stale = await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { stock: 50 }, headers: { "If-Match": loaded.headers.get("etag")! } });
    expect(stale.status).toBe(412);
    await expectProjection(product.id, 11);
    const fresh = await api("GET", `/api/products/${product.id}/`, { token: admin.access });
    const saved = await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { stock: 50 }, headers: { "If-Match": fresh.headers.get("etag")! } });
    expect(saved).toMatchObject({ status: 200, body: { stock: 50 } });
    expect((await shardCounts(product.id)).map((s) => s.available)).toEqual([13, 13, 12, 12]);
    expect(await expectInvariant(product.id)).toMatchObject({ available: 50, sold: 9, total: 59 });
    expect((await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { stock_adjustment: -51 } })).status).toBe(400);
    expect((await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { stock_adjustment: -50 } })).status).toBe(200);
    expect(await expectInvariant(product.id)).toMatchObject({ available: 0, total: 9 });
  });

  it("refuses a shard count outside 1..64, naming the field", async () => {
    const product = await createProduct(admin.access, { stock: 1 });
    for (const stock_shards of [0, 65, 2.5, "4"]) {
      const res = await api("PATCH", `/api/products/${product.id}/`, { token: admin.access, body: { stock_shards } });
      expect(res.status).toBe(400);
      expect(Object.keys(res.body)).toEqual(["stock_shards"]);
    }
  });
});

/** What the healers do after a dead Worker: every shard's alarm settles its overdue holds, then the sweep runs. */
async function healAllShards(productId: number) {
  for (const shard of (await shardCounts(productId)).map((s) => shardStub(env, productId, s.shard))) {
    await runInDurableObject(shard, (_instance, state) => {
      state.storage.sql.exec("UPDATE holds SET expires_at = 0 WHERE state = 'reserved'");
      return state.storage.setAlarm(Date.now() + 60_000);
    });
    await runDurableObjectAlarm(shard);
  }
  await runSweep(env);
}

describe("crashes mid-storm lose nothing", () => {
  it("a checkout taking its units from three shards, dying at each of its I/O calls in turn, leaves the sum exact", async () => {
    const [user] = await buyers(1, "dies");
    for (const mode of ["before", "after"] as const) {
      let points = 0;
      for (let k = 1; k < 40; k++, points++) {
        const product = await createProduct(admin.access, { stock: 3, stock_shards: 3 }); // one unit in each shard
        await env.DB.prepare("UPDATE carts SET checkout_key = NULL, checkout_expires_at = NULL WHERE user_id = ?").bind(user.id).run();
        await env.DB.prepare("DELETE FROM cart_items WHERE cart_id = (SELECT id FROM carts WHERE user_id = ?)").bind(user.id).run();
        await fillCart(user.id, [[product.id, 3]]);
        const faults = new Faults({ at: k, mode });
        await sendWith(faultyEnv(faults), "POST", "/api/orders/create_order/", { token: user.access, body: address });
        await healAllShards(product.id);
        const s = await expectInvariant(product.id);
        expect(s.available + s.sold).toBe(3);
        expect([0, 3]).toContain(s.sold); // all three parts sold with the order, or none
        // keep the user under the unpaid-orders limit for the next round
        await env.DB.prepare("UPDATE orders SET status = 'paid', payment_status = 'success' WHERE user_id = ?").bind(user.id).run();
        if (!faults.faulted) break; // the flow completed without reaching call k: every crash point was tried
      }
      expect(points).toBeGreaterThanOrEqual(8); // session, claim, three reserves, order batch, three commits at least
    }
  });

  it("holds of checkouts that died before or after their order batch are settled by each shard's alarm", async () => {
    const product = await createProduct(admin.access, { stock: 16, stock_shards: 4 });
    const [user] = await buyers(1, "crash");
    const stock = productStock(env, product.id, 4);
    const keys = Array.from({ length: 12 }, () => crypto.randomUUID());
    expect((await Promise.all(keys.map((k) => stock.reserve(k, 1)))).every((r) => r.ok)).toBe(true);
    // Half the Workers died after writing their order (as the order batch does), half before; none committed.
    for (const key of keys.slice(0, 6)) {
      const order = await env.DB.prepare(
        "INSERT INTO orders (user_id, order_number, hold_key, total_paise, shipping_address) VALUES (?, ?, ?, 10000, 'x') RETURNING id",
      )
        .bind(user.id, `ORD-${key.slice(0, 12).toUpperCase()}`, key)
        .first<{ id: number }>();
      await env.DB.prepare("INSERT INTO order_items (order_id, product_id, quantity, price_paise, subtotal_paise) VALUES (?, ?, 1, 10000, 10000)")
        .bind(order!.id, product.id)
        .run();
    }
    for (let s = 0; s < 4; s++) {
      const shard = shardStub(env, product.id, s);
      await runInDurableObject(shard, (_instance, state) => void state.storage.sql.exec("UPDATE holds SET expires_at = 0"));
      await runDurableObjectAlarm(shard);
    }
    expect(await expectInvariant(product.id)).toMatchObject({ available: 10, sold: 6, total: 16 });
    expect(await soldInD1(product.id)).toBe(6);
  });

  it("a transfer recorded by a shard that died before delivering it is delivered by that shard's alarm, once", async () => {
    const product = await createProduct(admin.access, { stock: 8, stock_shards: 2 });
    const giver = shardStub(env, product.id, 1);
    // What a shard sending 3 units home leaves behind if it dies right after recording the transfer.
    await runInDurableObject(giver, (_instance, state) => {
      state.storage.sql.exec("UPDATE stock SET available = available - 3, total = total - 3, version = version + 1");
      state.storage.sql.exec("INSERT INTO transfers_out (id, peer, qty) VALUES ('t-crash', 0, 3)");
    });
    expect((await stockOf(product.id)).total).toBe(5); // 3 units in flight
    const fireAlarm = async () => {
      await runInDurableObject(giver, (_instance, state) => state.storage.setAlarm(Date.now() + 60_000));
      expect(await runDurableObjectAlarm(giver)).toBe(true);
    };
    await fireAlarm();
    await fireAlarm(); // at-least-once: a second run changes nothing
    await shardStub(env, product.id, 0).receiveUnits(product.id, 0, "t-crash", 3);
    expect(await expectInvariant(product.id)).toMatchObject({ available: 8, total: 8 });
    expect((await shardCounts(product.id)).map((s) => s.available)).toEqual([7, 1]);
  });
});

describe("the D1 projection", () => {
  it("is the sum of the shards, written behind in batches: many reserves, a few D1 writes, within the stated lag", async () => {
    const product = await createProduct(admin.access, { stock: 100, stock_shards: 4 });
    const before = await projected(product.id);
    const stock = productStock(env, product.id, 4);
    const results = await Promise.all(Array.from({ length: 40 }, () => stock.reserve(crypto.randomUUID(), 1)));
    expect(results.every((r) => r.ok)).toBe(true);
    await expectProjection(product.id, 60);
    // stock_version counts D1 writes: 4 shards, each writing its changes of a 1 s window together.
    const writes = (await projected(product.id)).stock_version - before.stock_version;
    expect(writes).toBeLessThanOrEqual(12);
    expect(writes).toBeGreaterThanOrEqual(1);
  });

  it("is healed by the sweep when a row was edited by hand", async () => {
    const product = await createProduct(admin.access, { stock: 9, stock_shards: 3 });
    await env.DB.prepare("UPDATE products SET stock = 500 WHERE id = ?").bind(product.id).run();
    await env.DB.prepare("UPDATE product_stock_shards SET available = 400 WHERE product_id = ? AND shard = 1").bind(product.id).run();
    await env.DB.prepare("DELETE FROM sweep_cursors").run();
    await runSweep(env);
    await expectProjection(product.id, 9);
  });

  it("names shards so that shard 0 is the product's own object", () => {
    expect([shardName(42, 0), shardName(42, 1), shardName(42, 7)]).toEqual(["42", "42/s1", "42/s7"]);
  });
});

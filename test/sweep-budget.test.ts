/**
 * Issue 27 scenario 7: one run of the scheduled sweep stays within a stated I/O budget whatever the backlog, and keeps
 * making progress across runs. The sweep runs with counted bindings (test/crash-harness.ts, no fault planned).
 */
import { env, runInDurableObject } from "cloudflare:test";
import { expect, it } from "vitest";
import { RESTOCK_CALLS_PER_RUN } from "../src/features/orders/orders.sweep";
import { runSweep } from "../src/features/sweep/sweep.service";
import { inventoryOf } from "../src/inventory/inventory.client";
import { Faults, faultyEnv } from "./crash-harness";
import { insertCategory } from "./fixtures";
import { registerUser } from "./helpers";

const ORDERS = 100;
const LINES = 100;
/** The budget the sweep's header states: object calls to restock and heal, Razorpay calls, D1 queries. */
const RUN_BUDGET = { objectCalls: RESTOCK_CALLS_PER_RUN + 100, d1: 100, total: 1_250 };

it(`expires ${ORDERS} orders of ${LINES} lines at once and restocks them within each run's I/O budget, ${RESTOCK_CALLS_PER_RUN / LINES} orders a run`, async () => {
  const user = await registerUser("budget");
  const category = await insertCategory();
  const products = await env.DB.prepare(
    `INSERT INTO products (category_id, name, slug, description, price_paise, stock, is_active)
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${LINES})
     SELECT ?, 'Sweep product ' || i, 'sweep-product-' || i, 'd', 100, 1000, 1 FROM n RETURNING id`,
  )
    .bind(category)
    .all<{ id: number }>();
  const productIds = products.results.map((p) => p.id);
  const holdKeys = Array.from({ length: ORDERS }, (_, i) => `sweep-${i + 1}`);
  // Every order holds one unit of every product, sold (committed) in its object, as a placed order does (written in
  // the objects' storage directly: 10,000 reserve + commit calls would take minutes here).
  await Promise.all(
    productIds.map(async (id) => {
      const stub = inventoryOf(env, id);
      await stub.getStock(id);
      await runInDurableObject(stub, (_instance, state) => {
        for (const key of holdKeys) state.storage.sql.exec("INSERT INTO holds (order_key, qty, state, expires_at) VALUES (?, 1, 'committed', 0)", key);
        state.storage.sql.exec("UPDATE stock SET available = available - ?, sold = sold + ?, version = version + 1", ORDERS, ORDERS);
      });
    }),
  );
  const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000).toISOString();
  await env.DB.prepare(
    `INSERT INTO orders (user_id, order_number, total_paise, status, payment_status, shipping_address, hold_key, created_at)
     WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${ORDERS})
     SELECT ?, 'ORD-SWEEP' || printf('%03d', i), ${LINES * 100}, 'pending', 'pending', 'x', 'sweep-' || i, ? FROM n`,
  )
    .bind(user.id, twoHoursAgo)
    .run();
  await env.DB.prepare(
    `INSERT INTO order_items (order_id, product_id, quantity, price_paise, subtotal_paise)
     SELECT o.id, p.id, 1, 100, 100 FROM orders o, products p WHERE o.hold_key LIKE 'sweep-%' AND p.category_id = ?`,
  )
    .bind(category)
    .run();

  // Each restocked unit also costs its object a projection write to D1 (about 10 ms here): the full backlog takes
  // ten runs and about two minutes on this machine, so the test runs three and checks each one's share.
  const RUNS = 3;
  const perRun = RESTOCK_CALLS_PER_RUN / LINES;
  const runs: Array<{ objectCalls: number; d1: number; total: number; finished: number; expired: number }> = [];
  for (let run = 1; run <= RUNS; run++) {
    const faults = new Faults();
    const report = await runSweep(faultyEnv(faults));
    const count = (prefix: string) => faults.trace.filter((label) => label.startsWith(prefix)).length;
    runs.push({ objectCalls: count("DO "), d1: count("D1 "), total: faults.calls, finished: report.finishedCancels, expired: report.expiredOrders });
  }
  console.log(JSON.stringify({ msg: "sweep runs", runs }));
  for (const r of runs) {
    expect(r.objectCalls).toBeLessThanOrEqual(RUN_BUDGET.objectCalls);
    expect(r.d1).toBeLessThanOrEqual(RUN_BUDGET.d1);
    expect(r.total).toBeLessThanOrEqual(RUN_BUDGET.total);
    expect(r.finished).toBe(perRun); // whole orders, oldest first: progress every run
  }
  expect(runs[0].expired).toBe(ORDERS); // all cancelled by the first run: no longer payable
  const statuses = await env.DB.prepare("SELECT status, count(*) AS n FROM orders WHERE hold_key LIKE 'sweep-%' GROUP BY status").all();
  expect(statuses.results).toEqual([{ status: "cancelled", n: ORDERS }]);
  const left = await env.DB.prepare("SELECT count(*) AS n FROM orders WHERE hold_key LIKE 'sweep-%' AND restocked_at IS NULL").first<{ n: number }>();
  expect(left!.n).toBe(ORDERS - RUNS * perRun);
  // Every product has exactly the restocked orders' units back; the rest are still sold to cancelled orders.
  for (const id of productIds) {
    const stock = await inventoryOf(env, id).getStock(id);
    expect(stock).toMatchObject({ available: 1000 - ORDERS + RUNS * perRun, sold: ORDERS - RUNS * perRun, reserved: 0, total: 1000 });
  }
}, 120_000);

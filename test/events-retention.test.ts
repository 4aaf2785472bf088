/**
 * Retention of order events and webhook deliveries (src/features/events/retention.ts): the scheduled sweep deletes
 * events done for 30 days with their deliveries, keeps failed deliveries 90 days for a redelivery, never touches
 * unsent or still-retrying ones, keeps each order's sequence numbers going up, and works through a backlog a bounded
 * window per run. Queue messages go to a recording binding and the test hands them to the consumer itself; the
 * receiver is stubbed behind `fetch`. "31 days ago" is made by moving the rows' timestamps back.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { EVENTS_DLQ } from "../src/features/events/events";
import { PURGE_WINDOW, purgeEvents } from "../src/features/events/retention";
import { runSweep } from "../src/features/sweep/sweep.service";
import { fillCart, insertProduct } from "./fixtures";
import { api, createAdmin, registerUser, type TestUser, unique } from "./helpers";
import { consume, drain, recordingQueue } from "./messaging";
import { envWith } from "./platform-fakes";

const ORDER_EVENTS = ["order.created", "order.paid", "order.status_changed", "order.cancelled", "order.refunded"];

let admin: TestUser;

beforeAll(async () => {
  admin = await createAdmin();
});

afterEach(async () => {
  vi.restoreAllMocks();
  await env.DB.prepare("UPDATE webhook_endpoints SET is_active = 0").run(); // each test subscribes its own endpoints
});

interface Received {
  url: string;
  id: string;
  payload: { type: string; data: Record<string, any> };
}

/** A receiver behind `fetch`: records every POST; `up(url)` says whether that URL answers 200 (else 500). */
function receiver(up: (url: string) => boolean = () => true) {
  const calls: Received[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    calls.push({ url: req.url, id: req.headers.get("webhook-id")!, payload: await req.json() });
    return up(req.url) ? new Response("ok") : new Response("down", { status: 500 });
  });
  return calls;
}

async function endpoint(events = ORDER_EVENTS) {
  const res = await api("POST", "/api/webhooks/", { token: admin.access, body: { url: `https://${unique("hooks")}.example.com/in`, events } });
  expect(res.status).toBe(201);
  return res.body as { id: number; url: string };
}

/** The bindings of a shop whose Queue messages the test consumes itself. */
function shop() {
  const recorder = recordingQueue();
  return { recorder, bindings: envWith({ EVENTS: recorder.queue }) };
}

async function placeOrder(bindings: Env) {
  const user = await registerUser("buyer");
  const product = await insertProduct({ stock: 50 });
  await fillCart(user.id, [[product, 1]]);
  const res = await api("POST", "/api/orders/create_order/", { token: user.access, body: { shipping_address: "1 Road, Pune" }, env: bindings });
  expect(res.status).toBe(201);
  return res.body as { id: number };
}

const setStatus = async (orderId: number, status: string, bindings: Env) =>
  expect((await api("PATCH", `/api/orders/${orderId}/update_status/`, { token: admin.access, body: { status }, env: bindings })).status).toBe(200);

/** What an admin sees of an endpoint's deliveries (all of them: these tests keep under a page). */
async function deliveries(endpointId: number) {
  const res = await api("GET", `/api/webhooks/${endpointId}/deliveries/?page_size=100`, { token: admin.access });
  expect(res.status).toBe(200);
  return res.body as { count: number; results: { id: number; event_id: string; event_type: string; status: string }[] };
}

const eventIdsOf = async (orderId: number) =>
  (await env.DB.prepare("SELECT id FROM events WHERE order_id = ? ORDER BY seq").bind(orderId).all<{ id: string }>()).results.map((r) => r.id);

/** Moves an order's events, and their deliveries' last attempt, `days` into the past. */
async function age(orderId: number, days: number) {
  const back = (column: string) => `${column} = CASE WHEN ${column} IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%fZ', ${column}, ?1) END`;
  await env.DB.batch([
    env.DB.prepare(`UPDATE webhook_deliveries SET ${back("created_at")}, ${back("updated_at")} WHERE event_id IN (SELECT id FROM events WHERE order_id = ?2)`).bind(
      `-${days} days`,
      orderId,
    ),
    env.DB.prepare(`UPDATE events SET ${back("created_at")}, ${back("sent_at")} WHERE order_id = ?2`).bind(`-${days} days`, orderId),
  ]);
}

describe("what the sweep purges", () => {
  it("drops events and deliveries done for more than 30 days, keeps younger ones and the orders themselves", async () => {
    const hook = await endpoint();
    const removed = await endpoint(["order.created"]); // always failing, then deleted by the admin
    const calls = receiver((url) => url !== removed.url);
    const { recorder, bindings } = shop();
    const old = await placeOrder(bindings);
    const recent = await placeOrder(bindings);
    await drain(recorder, bindings);
    expect(calls.filter((c) => c.url === hook.url)).toHaveLength(2);
    expect((await deliveries(removed.id)).results.map((d) => d.status)).toEqual(["pending", "pending"]);
    // the admin removes the endpoint that never answered: its deliveries no longer hold the events back
    expect((await api("DELETE", `/api/webhooks/${removed.id}/`, { token: admin.access })).status).toBe(204);
    const [oldEvent] = await eventIdsOf(old.id);
    const [recentEvent] = await eventIdsOf(recent.id);
    await age(old.id, 31);
    await age(recent.id, 29);

    const report = await runSweep(bindings);
    expect(report.purgedEvents).toBeGreaterThanOrEqual(1);
    expect(report.failedSteps).toEqual([]);
    const left = await deliveries(hook.id);
    expect(left.results.map((d) => d.event_id)).toEqual([recentEvent]);
    expect(left.count).toBe(1);
    expect(await eventIdsOf(old.id)).toEqual([]);
    expect(await eventIdsOf(recent.id)).toEqual([recentEvent]);
    expect(oldEvent).toMatch(/^msg_/);
    // the order is kept: only its event history went
    expect((await api("GET", `/api/orders/${old.id}/`, { token: admin.access })).status).toBe(200);
  });

  it("never purges an unsent event or one still being retried, however old; both are still delivered", async () => {
    let up = false;
    const hook = await endpoint(["order.created"]);
    const calls = receiver(() => up);
    const { recorder, bindings } = shop();
    const retrying = await placeOrder(bindings);
    const retried = await drain(recorder, bindings); // 500: the delivery is pending, its message waits for a retry
    expect(retried).toHaveLength(1);
    const broken = { send: () => Promise.reject(new Error("Queue send failed")), sendBatch: () => Promise.reject(new Error("Queue send failed")) };
    const unsent = await placeOrder(envWith({ EVENTS: broken as unknown as Queue }));
    expect(await env.DB.prepare("SELECT sent_at FROM events WHERE order_id = ?").bind(unsent.id).first()).toEqual({ sent_at: null });
    await age(retrying.id, 100);
    await age(unsent.id, 100);

    await runSweep(bindings);
    expect((await deliveries(hook.id)).results).toEqual([expect.objectContaining({ status: "pending" })]);
    expect(await eventIdsOf(retrying.id)).toHaveLength(1);
    expect(await eventIdsOf(unsent.id)).toHaveLength(1);

    // the receiver is back: the retry succeeds, and the event the sweep just published reaches it too
    up = true;
    await consume("edge-shop-events", retried, bindings, 2);
    await drain(recorder, bindings);
    const got = calls.filter((c) => c.url === hook.url && c.payload.type === "order.created").map((c) => c.payload.data.id);
    expect(new Set(got)).toEqual(new Set([retrying.id, unsent.id]));
    expect((await deliveries(hook.id)).results.map((d) => d.status)).toEqual(["succeeded", "succeeded"]);
  });

  it("keeps a failed delivery 90 days after its last attempt so an admin can redeliver it, then drops it", async () => {
    let up = false;
    const hook = await endpoint(["order.created"]);
    const calls = receiver(() => up);
    const { recorder, bindings } = shop();
    const month = await placeOrder(bindings);
    const quarter = await placeOrder(bindings);
    const retried = await drain(recorder, bindings);
    await consume(EVENTS_DLQ, retried, bindings); // out of attempts: both deliveries fail
    const before = await deliveries(hook.id);
    expect(before.results.map((d) => d.status)).toEqual(["failed", "failed"]);
    const idOf = async (orderId: number) => {
      const [eventId] = await eventIdsOf(orderId);
      return before.results.find((d) => d.event_id === eventId)!.id;
    };
    const [monthDelivery, quarterDelivery] = [await idOf(month.id), await idOf(quarter.id)];
    await age(month.id, 60);
    await age(quarter.id, 91);

    await runSweep(bindings);
    expect((await deliveries(hook.id)).results.map((d) => d.id)).toEqual([monthDelivery]);
    const gone = await api("POST", `/api/webhooks/${hook.id}/deliveries/${quarterDelivery}/redeliver/`, { token: admin.access, env: bindings });
    expect(gone.status).toBe(404);

    up = true;
    const again = await api("POST", `/api/webhooks/${hook.id}/deliveries/${monthDelivery}/redeliver/`, { token: admin.access, env: bindings });
    expect(again.status).toBe(202);
    await drain(recorder, bindings);
    expect((await deliveries(hook.id)).results).toEqual([expect.objectContaining({ id: monthDelivery, status: "succeeded" })]);
    expect(calls.filter((c) => c.url === hook.url && c.payload.data.id === month.id).map((c) => c.id)).toEqual([
      (await eventIdsOf(month.id))[0],
      (await eventIdsOf(month.id))[0],
    ]);
  });
});

describe("sequence numbers", () => {
  it("numbers an order's next event after every earlier one, once those were purged", async () => {
    const hook = await endpoint();
    const calls = receiver();
    const { recorder, bindings } = shop();
    const order = await placeOrder(bindings);
    await setStatus(order.id, "paid", bindings);
    await setStatus(order.id, "shipped", bindings);
    await drain(recorder, bindings);
    const seen = () => calls.filter((c) => c.url === hook.url && c.payload.data.id === order.id).map((c) => c.payload.data.sequence as number);
    const earlier = seen();
    expect(earlier.length).toBeGreaterThanOrEqual(3);
    await age(order.id, 31);
    await runSweep(bindings);
    expect(await eventIdsOf(order.id)).toEqual([]);

    await setStatus(order.id, "delivered", bindings);
    await drain(recorder, bindings);
    const [delivered] = calls.filter((c) => c.url === hook.url && c.payload.data.id === order.id && c.payload.data.status === "delivered");
    expect(delivered.payload.type).toBe("order.status_changed");
    expect(delivered.payload.data.sequence).toBe(Math.max(...earlier) + 1);
    expect(seen()).toHaveLength(earlier.length + 1);
  });

  it("numbers a product's next low-stock event after the purged one", async () => {
    const product = await insertProduct({ stock: 20 });
    await env.DB.prepare("UPDATE products SET stock = 5 WHERE id = ?").bind(product).run();
    await env.DB.prepare(
      "UPDATE events SET sent_at = '2020-01-01T00:00:00.000Z', created_at = '2020-01-01T00:00:00.000Z' WHERE product_id = ?",
    ).bind(product).run();
    await runSweep(shop().bindings);
    expect((await env.DB.prepare("SELECT count(*) AS n FROM events WHERE product_id = ?").bind(product).first())!.n).toBe(0);
    await env.DB.prepare("UPDATE products SET stock = 20 WHERE id = ?").bind(product).run();
    await env.DB.prepare("UPDATE products SET stock = 4 WHERE id = ?").bind(product).run();
    expect((await env.DB.prepare("SELECT seq FROM events WHERE product_id = ?").bind(product).all()).results).toEqual([{ seq: 2 }]);
  });
});

describe("a backlog", () => {
  it(`purges ${PURGE_WINDOW} events a run, reading only those, and events it must keep do not stall it`, async () => {
    const hook = await endpoint();
    const [KEPT, DONE, YOUNG] = [300, 1000, 3000];
    const longAgo = new Date(Date.now() - 40 * 86_400_000).toISOString();
    // Oldest first: 300 events whose delivery failed 40 days ago (inside the 90 days), then 1,000 delivered ones;
    // then 3,000 delivered today, which no run should even read.
    const bulk = (from: number, count: number, at: string) =>
      env.DB.prepare(
        `INSERT INTO events (id, type, order_id, seq, data, sent_at, created_at)
         WITH RECURSIVE n(i) AS (SELECT ${from} UNION ALL SELECT i + 1 FROM n WHERE i < ${from + count - 1})
         SELECT 'msg_bulk' || i, 'order.created', 900000 + i, 1, '{}', ?1, ?1 FROM n`,
      ).bind(at);
    await env.DB.batch([
      bulk(1, KEPT + DONE, longAgo),
      bulk(KEPT + DONE + 1, YOUNG, new Date().toISOString()),
      env.DB.prepare(
        `INSERT INTO webhook_deliveries (endpoint_id, event_id, status, attempts, last_status, created_at, updated_at)
         SELECT ?1, id, CASE WHEN order_id <= 900000 + ${KEPT} THEN 'failed' ELSE 'succeeded' END, 1,
           CASE WHEN order_id <= 900000 + ${KEPT} THEN 500 ELSE 200 END, created_at, created_at
         FROM events WHERE id LIKE 'msg_bulk%' ORDER BY order_id`,
      ).bind(hook.id),
    ]);
    expect((await deliveries(hook.id)).count).toBe(KEPT + DONE + YOUNG);

    const runs = [];
    for (let run = 0; run < 4; run++) {
      const result = await purgeEvents(env.DB);
      runs.push({ ...result, left: (await deliveries(hook.id)).count });
    }
    console.log(JSON.stringify({ msg: "event purge runs", runs }));
    // 500 looked at a run, oldest first: the 300 kept ones take part of the first window, so the 1,000 go over
    // three runs; the next lap starts again from the oldest and finds nothing more to purge.
    expect(runs.map((r) => r.left)).toEqual([
      KEPT + YOUNG + DONE - runs[0].purged,
      KEPT + YOUNG + DONE - runs[0].purged - PURGE_WINDOW,
      KEPT + YOUNG,
      KEPT + YOUNG,
    ]);
    expect(runs[0].purged).toBeLessThanOrEqual(PURGE_WINDOW - KEPT);
    expect(runs.map((r) => r.purged).slice(1)).toEqual([PURGE_WINDOW, DONE - PURGE_WINDOW - runs[0].purged, 0]);
    for (const r of runs) {
      expect(r.examined).toBeLessThanOrEqual(PURGE_WINDOW);
      // per event looked at: its index entry and row, a delivery and an email lookup, and when it goes its floor and
      // cascade (about 23 rows here); a scan of the 4,300 events and their deliveries would be 8,600 more
      expect(r.rowsRead).toBeLessThanOrEqual(30 * r.examined + 50);
    }
    expect(runs[3].rowsRead).toBeLessThan(5 * KEPT); // a lap over the kept ones reads them, not the young ones
    expect((await deliveries(hook.id)).results.some((d) => d.status === "failed")).toBe(false); // newest first: young
    expect((await env.DB.prepare("SELECT count(*) AS n FROM events WHERE id LIKE 'msg_bulk%'").first())!.n).toBe(KEPT + YOUNG);
  });
});

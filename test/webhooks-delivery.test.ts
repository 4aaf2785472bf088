/**
 * Webhook deliveries end to end: outbox -> Queue -> fan-out -> signed POSTs, with the receiver stubbed behind
 * `fetch` and every signature checked with the `standardwebhooks` package. Some tests run the real local Queue (the
 * vitest plugin serves wrangler.toml's queues; WEBHOOK_RETRY_DELAYS is 1 s here); the others hand the consumer its
 * batches themselves, with a Queue binding that records what is sent, so attempts and delays are exact.
 */
import { env } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { EVENTS_DLQ, EVENTS_QUEUE } from "../src/features/events/events";
import { runSweep } from "../src/features/sweep/sweep.service";
import { fillCart, insertProduct } from "./fixtures";
import { consume, recordingQueue } from "./messaging";
import { api, createAdmin, registerUser, type TestUser, unique } from "./helpers";
import { envWith } from "./platform-fakes";

let admin: TestUser;

beforeAll(async () => {
  admin = await createAdmin();
});

afterEach(async () => {
  vi.restoreAllMocks();
  // Messages of earlier tests still in the real Queue must not reach this test's endpoints.
  await env.DB.prepare("UPDATE webhook_endpoints SET is_active = 0").run();
});

interface Received {
  url: string;
  headers: Record<string, string>;
  body: string;
  payload: { type: string; timestamp: string; data: Record<string, any> };
}

/** A receiver behind `fetch`: records every POST and answers with `answer` (200 unless told otherwise). */
function receiver(answer: (call: Received, n: number) => Response | Promise<Response> = () => new Response("ok")) {
  const calls: Received[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    const body = await req.text();
    const call = { url: req.url, headers: Object.fromEntries(req.headers), body, payload: JSON.parse(body) };
    calls.push(call);
    return answer(call, calls.length);
  });
  return calls;
}

async function endpoint(events: string[]) {
  const url = `https://${unique("hooks")}.example.com/in`;
  const res = await api("POST", "/api/webhooks/", { token: admin.access, body: { url, events } });
  expect(res.status).toBe(201);
  return res.body as { id: number; url: string; secret: string };
}

async function placeOrder(user: TestUser, options: { env?: Env } = {}) {
  const product = await insertProduct({ stock: 50 });
  await fillCart(user.id, [[product, 1]]);
  const res = await api("POST", "/api/orders/create_order/", { token: user.access, body: { shipping_address: "1 Road, Pune" }, env: options.env });
  expect(res.status).toBe(201);
  return res.body as { id: number };
}

/** Checks the Standard Webhooks signature with the reference package; returns the verified payload. */
const verified = (secret: string, call: Received) => new Webhook(secret).verify(call.body, call.headers) as Received["payload"];

const deliveriesOf = async (endpointId: number) =>
  (await api("GET", `/api/webhooks/${endpointId}/deliveries/`, { token: admin.access })).body.results as any[];

describe("delivery through the Queue", () => {
  it("delivers each subscribed event exactly once, signed, and no unsubscribed event", async () => {
    const calls = receiver();
    const a = await endpoint(["order.created", "order.cancelled"]);
    const b = await endpoint(["order.paid"]);
    const user = await registerUser("buyer");
    const order = await placeOrder(user);
    expect((await api("POST", `/api/orders/${order.id}/cancel/`, { token: user.access })).status).toBe(200);

    await vi.waitFor(() => expect(calls.filter((c) => c.url === a.url)).toHaveLength(2), { timeout: 20_000, interval: 200 });
    await new Promise((r) => setTimeout(r, 2500)); // time for a duplicate or a stray event to show up
    const toA = calls.filter((c) => c.url === a.url);
    expect(toA).toHaveLength(2);
    expect(calls.filter((c) => c.url === b.url)).toHaveLength(0);

    const payloads = toA.map((c) => verified(a.secret, c));
    expect(payloads.map((p) => p.type).sort()).toEqual(["order.cancelled", "order.created"]);
    for (const [i, p] of payloads.entries()) {
      expect(p.data).toMatchObject({ id: order.id, user_email: user.email, items: [expect.objectContaining({ quantity: 1 })] });
      expect(p.data.updated_at).toEqual(expect.any(String));
      expect(p.data.sequence).toEqual(expect.any(Number));
      expect(toA[i].headers["content-type"]).toBe("application/json");
      expect(toA[i].headers["webhook-id"]).toMatch(/^msg_/);
    }
    expect(new Set(toA.map((c) => c.headers["webhook-id"])).size).toBe(2);
    const created = payloads.find((p) => p.type === "order.created")!;
    const cancelled = payloads.find((p) => p.type === "order.cancelled")!;
    expect(cancelled.data.sequence).toBeGreaterThan(created.data.sequence);
    // a wrong secret fails verification: the signature is real
    expect(() => verified(b.secret, toA[0])).toThrow();

    const deliveries = await deliveriesOf(a.id);
    expect(deliveries.map((d) => [d.event_type, d.status, d.attempts, d.last_status])).toEqual(
      expect.arrayContaining([
        ["order.created", "succeeded", 1, 200],
        ["order.cancelled", "succeeded", 1, 200],
      ]),
    );
    expect(deliveries[0].id).toBeGreaterThan(deliveries[1].id); // newest first
  });

  it("retries 500, 500 and succeeds on the third attempt with the same webhook-id", async () => {
    const calls = receiver((_call, n) => new Response(n <= 2 ? "down" : "ok", { status: n <= 2 ? 500 : 200 }));
    const hook = await endpoint(["order.created"]);
    const order = await placeOrder(await registerUser("retry"));

    await vi.waitFor(() => expect(calls.filter((c) => c.url === hook.url)).toHaveLength(3), { timeout: 30_000, interval: 200 });
    const attempts = calls.filter((c) => c.url === hook.url);
    expect(new Set(attempts.map((c) => c.headers["webhook-id"])).size).toBe(1);
    for (const call of attempts) expect(verified(hook.secret, call).data.id).toBe(order.id);
    await vi.waitFor(async () => expect((await deliveriesOf(hook.id))[0]).toMatchObject({ status: "succeeded", attempts: 3, last_status: 200 }));
  });

  it("loses no event when the Queue send fails after the commit: the sweep sends it", async () => {
    const calls = receiver();
    const hook = await endpoint(["order.created"]);
    const broken = {
      send: async () => Promise.reject(new Error("Queue send failed: internal error")),
      sendBatch: async () => Promise.reject(new Error("Queue send failed: internal error")),
    } as unknown as Queue;
    const order = await placeOrder(await registerUser("outage"), { env: envWith({ EVENTS: broken }) });

    const row = await env.DB.prepare("SELECT sent_at FROM events WHERE order_id = ? AND type = 'order.created'").bind(order.id).first();
    expect(row).toEqual({ sent_at: null });
    await new Promise((r) => setTimeout(r, 1500));
    expect(calls.filter((c) => c.url === hook.url)).toHaveLength(0);

    const report = await runSweep(env, Date.now() + 61_000);
    expect(report.publishedEvents).toBeGreaterThanOrEqual(1);
    await vi.waitFor(() => expect(calls.filter((c) => c.url === hook.url)).toHaveLength(1), { timeout: 20_000, interval: 200 });
    expect(verified(hook.secret, calls.find((c) => c.url === hook.url)!).data.id).toBe(order.id);
  });
});

describe("delivery attempts, batch by batch", () => {
  /** An order whose events went to a recording Queue, fanned out by hand: the delivery messages it produced. */
  async function fannedOut(events: string[], answer?: Parameters<typeof receiver>[0]) {
    const calls = receiver(answer);
    const hook = await endpoint(events);
    const recorder = recordingQueue();
    const bindings = envWith({ EVENTS: recorder.queue, WEBHOOK_RETRY_DELAYS: "5,300,1800" });
    const order = await placeOrder(await registerUser("direct"), { env: bindings });
    const published = recorder.sent.splice(0);
    expect(published.every((m) => m.kind === "event")).toBe(true);
    await consume(EVENTS_QUEUE, published, bindings);
    const deliveries = recorder.sent.splice(0).filter((m) => m.kind === "delivery"); // (the customer's email aside)
    expect(deliveries).toHaveLength(1);
    return { calls, hook, order, bindings, recorder, delivery: deliveries[0] };
  }

  it("backs off by the configured delays, then the dead-letter queue marks it failed, and an admin redelivers it", async () => {
    let up = false;
    const { calls, hook, bindings, recorder, delivery } = await fannedOut(["order.created"], () =>
      new Response(up ? "ok" : "nope", { status: up ? 200 : 503 }),
    );
    for (const [attempt, delay] of [[1, 5], [2, 300], [3, 1800], [4, 1800]]) {
      const { retries, acks } = await consume(EVENTS_QUEUE, [delivery], bindings, attempt);
      expect(retries[0]).toHaveBeenCalledWith({ delaySeconds: delay });
      expect(acks[0]).not.toHaveBeenCalled();
    }
    let [row] = await deliveriesOf(hook.id);
    expect(row).toMatchObject({ status: "pending", attempts: 4, last_status: 503, response_body: "nope" });
    expect(Date.parse(row.next_attempt_at)).toBeGreaterThan(Date.now() + 1700_000);

    // the Queue gives up after max_retries and moves the message to the dead-letter queue
    await consume(EVENTS_DLQ, [delivery], bindings);
    [row] = await deliveriesOf(hook.id);
    expect(row).toMatchObject({ status: "failed", attempts: 4, next_attempt_at: null });

    up = true;
    const again = await api("POST", `/api/webhooks/${hook.id}/deliveries/${row.id}/redeliver/`, { token: admin.access, env: bindings });
    expect(again.status).toBe(202);
    expect(again.body).toMatchObject({ id: row.id, status: "pending" });
    expect(recorder.sent).toEqual([{ kind: "delivery", id: row.id }]);
    await consume(EVENTS_QUEUE, recorder.sent.splice(0), bindings);
    [row] = await deliveriesOf(hook.id);
    expect(row).toMatchObject({ status: "succeeded", attempts: 5, last_status: 200 });
    const ids = new Set(calls.filter((c) => c.url === hook.url).map((c) => c.headers["webhook-id"]));
    expect(ids.size).toBe(1);
  });

  it("disables the endpoint on 410 Gone and stops retrying", async () => {
    const { hook, bindings, delivery } = await fannedOut(["order.created"], () => new Response("gone", { status: 410 }));
    const { retries, acks } = await consume(EVENTS_QUEUE, [delivery], bindings);
    expect(retries[0]).not.toHaveBeenCalled();
    expect(acks[0]).toHaveBeenCalled();
    const after = await api("GET", `/api/webhooks/${hook.id}/`, { token: admin.access });
    expect(after.body).toMatchObject({ is_active: false, disabled_reason: expect.stringContaining("410") });
    expect((await deliveriesOf(hook.id))[0]).toMatchObject({ status: "failed", last_status: 410 });
  });

  it("never follows a redirect: it is a failed attempt", async () => {
    const { calls, hook, bindings, delivery } = await fannedOut(["order.created"], () =>
      new Response(null, { status: 302, headers: { Location: "https://169.254.169.254/" } }),
    );
    const { retries } = await consume(EVENTS_QUEUE, [delivery], bindings);
    expect(retries[0]).toHaveBeenCalled();
    expect(calls.map((c) => c.url)).toEqual([hook.url]);
    expect((await deliveriesOf(hook.id))[0]).toMatchObject({ status: "pending", last_status: 302, last_error: expect.stringContaining("Redirect") });
  });

  it("treats a receiver that does not answer within 10 s, or cannot be reached, as a failed attempt", async () => {
    const signals: (AbortSignal | null | undefined)[] = [];
    const { hook, bindings, delivery } = await fannedOut(["order.created"]);
    vi.restoreAllMocks();
    vi.spyOn(globalThis, "fetch").mockImplementation(async (_input, init) => {
      signals.push(init?.signal);
      throw new DOMException("The operation was aborted due to timeout", "TimeoutError"); // what AbortSignal.timeout raises
    });
    expect((await consume(EVENTS_QUEUE, [delivery], bindings)).retries[0]).toHaveBeenCalled();
    expect(signals[0]).toBeInstanceOf(AbortSignal);
    expect((await deliveriesOf(hook.id))[0]).toMatchObject({ status: "pending", last_status: null, last_error: "No answer within 10 s." });

    vi.restoreAllMocks();
    vi.spyOn(globalThis, "fetch").mockRejectedValue(new TypeError("fetch failed: getaddrinfo ENOTFOUND"));
    expect((await consume(EVENTS_QUEUE, [delivery], bindings, 2)).retries[0]).toHaveBeenCalled();
    expect((await deliveriesOf(hook.id))[0]).toMatchObject({ status: "pending", attempts: 2, last_error: expect.stringContaining("ENOTFOUND") });
  });

  it("keeps at most 1 KB of the receiver's answer", async () => {
    const { hook, bindings, delivery } = await fannedOut(["order.created"], () => new Response("x".repeat(5000), { status: 500 }));
    await consume(EVENTS_QUEUE, [delivery], bindings);
    expect((await deliveriesOf(hook.id))[0].response_body).toBe("x".repeat(1024));
  });

  it("runs the deliveries of one batch at once: a slow receiver does not hold back the others", async () => {
    let fastSeen!: () => void;
    const fastDone = new Promise<void>((resolve) => (fastSeen = resolve));
    const slowUrl = { value: "" };
    const first = await fannedOut(["order.created"], async (call) => {
      if (call.url === slowUrl.value) await fastDone; // answers only once the other receiver was reached
      else fastSeen();
      return new Response("ok");
    });
    slowUrl.value = first.hook.url;
    await env.DB.prepare("UPDATE webhook_endpoints SET is_active = 1 WHERE id = ?").bind(first.hook.id).run();
    const second = await endpoint(["order.paid"]);
    const recorder = recordingQueue();
    const bindings = envWith({ EVENTS: recorder.queue });
    const paid = await api("PATCH", `/api/orders/${first.order.id}/update_status/`, { token: admin.access, body: { status: "paid" }, env: bindings });
    expect(paid.status).toBe(200);
    await consume(EVENTS_QUEUE, recorder.sent.splice(0), bindings);
    const toSecond = recorder.sent.splice(0).filter((m) => m.kind === "delivery");
    expect(toSecond).toHaveLength(1);
    const { acks } = await consume(EVENTS_QUEUE, [first.delivery, ...toSecond], bindings);
    expect(acks.every((a) => a.mock.calls.length === 1)).toBe(true);
    expect((await deliveriesOf(second.id))[0]).toMatchObject({ status: "succeeded", event_type: "order.paid" });
  });
});

describe("the outbox", () => {
  it("writes each order change's events in the same statement, numbered per order", async () => {
    const bindings = envWith({ EVENTS: recordingQueue().queue });
    const order = await placeOrder(await registerUser("seq"), { env: bindings });
    for (const status of ["paid", "shipped"]) {
      await api("PATCH", `/api/orders/${order.id}/update_status/`, { token: admin.access, body: { status }, env: bindings });
    }
    const { results } = await env.DB.prepare("SELECT type, seq FROM events WHERE order_id = ? ORDER BY seq").bind(order.id).all();
    expect(results.map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect(results[0].type).toBe("order.created");
    expect(results.slice(1, 3).map((r) => r.type).sort()).toEqual(["order.paid", "order.status_changed"]);
    expect(results[3].type).toBe("order.status_changed");
  });

  it("writes product.low_stock when an active product's stock falls below its threshold (10 by default)", async () => {
    const product = await insertProduct({ stock: 12 });
    await env.DB.prepare("UPDATE products SET stock = 11 WHERE id = ?").bind(product).run();
    await env.DB.prepare("UPDATE products SET stock = 9 WHERE id = ?").bind(product).run();
    await env.DB.prepare("UPDATE products SET stock = 3 WHERE id = ?").bind(product).run();
    const { results } = await env.DB.prepare("SELECT type FROM events WHERE product_id = ?").bind(product).all();
    expect(results).toEqual([{ type: "product.low_stock" }]);

    const own = await insertProduct({ stock: 12 });
    await env.DB.prepare("UPDATE products SET low_stock_threshold = 3 WHERE id = ?").bind(own).run();
    await env.DB.prepare("UPDATE products SET stock = 5 WHERE id = ?").bind(own).run();
    expect((await env.DB.prepare("SELECT count(*) AS n FROM events WHERE product_id = ?").bind(own).first())!.n).toBe(0);
    await env.DB.prepare("UPDATE products SET stock = 2 WHERE id = ?").bind(own).run();
    expect((await env.DB.prepare("SELECT type FROM events WHERE product_id = ?").bind(own).all()).results).toEqual([{ type: "product.low_stock" }]);
  });
});

/**
 * Customer emails from order events, through the events Queue and Resend's HTTP API (stubbed behind `fetch`). The
 * consumer is handed its batches here, with a Queue binding that records what is sent, so attempts are exact.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { fillCart, insertProduct } from "./fixtures";
import { api, createAdmin, PASSWORD, type TestUser, unique } from "./helpers";
import { drain, fakeResend, mailingEnv } from "./messaging";
let admin: TestUser;

beforeAll(async () => {
  admin = await createAdmin();
});
afterEach(() => vi.restoreAllMocks());

async function customer(firstName = "Asha") {
  const username = unique("cust");
  const res = await api("POST", "/api/auth/register/", {
    body: { username, email: `${username}@example.com`, password: PASSWORD, password2: PASSWORD, first_name: firstName, last_name: "K" },
  });
  expect(res.status).toBe(201);
  return { id: res.body.user.id as number, email: `${username}@example.com`, access: res.body.tokens.access as string };
}

async function order(user: { id: number; access: string }, bindings: Env, productName?: string) {
  const product = await insertProduct({ stock: 20, name: productName });
  await fillCart(user.id, [[product, 2]]);
  const res = await api("POST", "/api/orders/create_order/", { token: user.access, body: { shipping_address: "7 Lake Rd, Pune" }, env: bindings });
  expect(res.status).toBe(201);
  return res.body as { id: number; order_number: string };
}

describe("order emails", () => {
  it("sends exactly one email per event to the order's customer, with the right subject", async () => {
    const sent = fakeResend();
    const { recorder, bindings } = mailingEnv();
    const user = await customer();
    const placed = await order(user, bindings);
    for (const status of ["paid", "processing", "shipped"]) {
      expect((await api("PATCH", `/api/orders/${placed.id}/update_status/`, { token: admin.access, body: { status }, env: bindings })).status).toBe(200);
    }
    await drain(recorder, bindings);
    // a second fan-out of every event (at-least-once delivery) sends nothing more
    const { results } = await env.DB.prepare("SELECT id FROM events WHERE order_id = ?").bind(placed.id).all<{ id: string }>();
    recorder.sent.push(...results.map((r) => ({ kind: "event" as const, id: r.id })));
    await drain(recorder, bindings);

    expect(sent.map((s) => s.body.subject)).toEqual([
      `Chai & Co: Order ${placed.order_number} received`,
      `Chai & Co: Payment received for order ${placed.order_number}`,
      `Chai & Co: Order ${placed.order_number} has shipped`,
    ]);
    for (const s of sent) {
      expect(s.body.to).toEqual([user.email]);
      expect(s.body.from).toBe("Chai & Co <orders@chai.example>");
      expect(s.headers.authorization).toBe("Bearer re_test_key");
      expect(s.headers["idempotency-key"]).toMatch(/^order-email-msg_/);
      expect(s.body.text).toContain("Asha");
      expect(s.body.html).toContain("Chai &amp; Co");
    }
    expect(new Set(sent.map((s) => s.headers["idempotency-key"])).size).toBe(3);
  });

  it("sends cancelled and refunded emails", async () => {
    const sent = fakeResend();
    const { recorder, bindings } = mailingEnv();
    const user = await customer();
    const placed = await order(user, bindings);
    expect((await api("POST", `/api/orders/${placed.id}/cancel/`, { token: user.access, env: bindings })).status).toBe(200);
    await env.DB.prepare("UPDATE orders SET payment_status = 'refunded' WHERE id = ?").bind(placed.id).run();
    const { results } = await env.DB.prepare("SELECT id FROM events WHERE order_id = ? AND sent_at IS NULL").bind(placed.id).all<{ id: string }>();
    recorder.sent.push(...results.map((r) => ({ kind: "event" as const, id: r.id })));
    await drain(recorder, bindings);
    expect(sent.map((s) => s.body.subject.replace(placed.order_number, "N"))).toEqual([
      "Chai & Co: Order N received",
      "Chai & Co: Order N was cancelled",
      "Chai & Co: Refund issued for order N",
    ]);
  });

  it("retries a provider 500 through the Queue and sends one email with the same idempotency key", async () => {
    const sent = fakeResend((n) => (n === 1 ? new Response("oops", { status: 500 }) : Response.json({ id: "email_1" })));
    const { recorder, bindings } = mailingEnv();
    await order(await customer(), bindings);
    const retried = await drain(recorder, bindings);
    expect(retried).toHaveLength(1);
    expect(retried[0].kind).toBe("email");
    recorder.sent.push(...retried);
    expect(await drain(recorder, bindings, 2)).toEqual([]);
    expect(sent).toHaveLength(2);
    expect(sent[0].headers["idempotency-key"]).toBe(sent[1].headers["idempotency-key"]);
    const row = await env.DB.prepare("SELECT status, attempts FROM email_messages WHERE id = ?").bind((retried[0] as { id: number }).id).first();
    expect(row).toEqual({ status: "sent", attempts: 2 });
  });

  it("records a provider 4xx (a bad address) without retrying, and the order is unaffected", async () => {
    fakeResend(() => Response.json({ name: "validation_error", message: "Invalid `to` field." }, { status: 422 }));
    const { recorder, bindings } = mailingEnv();
    const user = await customer();
    const placed = await order(user, bindings);
    expect(await drain(recorder, bindings)).toEqual([]);
    const row = await env.DB.prepare("SELECT status, last_status, last_error FROM email_messages WHERE recipient = ?").bind(user.email).first<any>();
    expect(row).toMatchObject({ status: "failed", last_status: 422 });
    expect(row.last_error).toContain("Invalid");
    const seen = await api("GET", `/api/orders/${placed.id}/`, { token: user.access });
    expect(seen.body).toMatchObject({ status: "pending", payment_status: "pending" });
  });

  it("escapes what customers control in the HTML", async () => {
    const sent = fakeResend();
    const { recorder, bindings } = mailingEnv();
    const user = await customer("<script>alert(1)</script>");
    await order(user, bindings, `Mug <img src=x onerror=alert(2)> ${unique("")}`);
    await drain(recorder, bindings);
    expect(sent).toHaveLength(1);
    expect(sent[0].body.html).not.toContain("<script>");
    expect(sent[0].body.html).not.toContain("<img");
    expect(sent[0].body.html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(sent[0].body.html).toContain("&lt;img src=x onerror=alert(2)&gt;");
  });
});

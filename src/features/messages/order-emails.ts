/**
 * Customer emails from order events: order placed, payment received, shipped, cancelled, refunded, each one email to
 * the order's customer. An email is a row (unique per event and recipient) written by the fan-out, then a Queue
 * message of its own; its Idempotency-Key is fixed by that row, so a retried send never delivers twice. No email is
 * sent from inside a request, and a failing email never blocks or fails the order.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { emailMessages, events, orders, passwordResets, users } from "../../db/schema";
import { nowIso } from "../../lib/time";
import type { AttemptOutcome } from "../webhooks/delivery";
import { eventData } from "../events/fanout";
import type { EventMessage } from "../events/events";
import { resetTtlSeconds, tokenHash } from "../password-reset/password-reset.service";
import { sendEmail } from "./resend";
import { orderEmail, passwordResetEmail, type OrderEmailKind } from "./templates";

type EventRow = typeof events.$inferSelect;

/** Which email an event means, if any: a status change only when the order shipped. */
export function emailKindOf(event: Pick<EventRow, "type" | "detail">): OrderEmailKind | null {
  switch (event.type) {
    case "order.created":
      return "created";
    case "order.paid":
      return "paid";
    case "order.cancelled":
      return "cancelled";
    case "order.refunded":
      return "refunded";
    case "order.status_changed":
      return event.detail === "shipped" ? "shipped" : null;
    default:
      return null;
  }
}

const shopName = (env: Env) => env.SHOP_NAME || "Edge Shop";

/** The fan-out's email half: writes the event's email row (once) and sends its message if it was never attempted. */
export async function queueOrderEmail(env: Env, db: Database, event: EventRow): Promise<number> {
  if (event.orderId === null || !emailKindOf(event)) return 0;
  const [customer] = await db
    .select({ email: users.email })
    .from(orders)
    .innerJoin(users, eq(users.id, orders.userId))
    .where(eq(orders.id, event.orderId));
  if (!customer) return 0;
  if ((await eventData(db, event)) === null) return 0;
  const [, pending] = await db.batch([
    db.insert(emailMessages).values({ eventId: event.id, recipient: customer.email }).onConflictDoNothing(),
    db
      .select({ id: emailMessages.id })
      .from(emailMessages)
      .where(and(eq(emailMessages.eventId, event.id), eq(emailMessages.status, "pending"), eq(emailMessages.attempts, 0))),
  ]);
  if (pending.length) await env.EVENTS.sendBatch(pending.map((m) => ({ body: { kind: "email", id: m.id } satisfies EventMessage, contentType: "json" as const })));
  return pending.length;
}

/** One attempt of one order email. */
export async function sendOrderEmail(env: Env, db: Database, emailId: number): Promise<AttemptOutcome> {
  const [row] = await db
    .select({
      status: emailMessages.status,
      recipient: emailMessages.recipient,
      eventId: events.id,
      type: events.type,
      detail: events.detail,
      data: events.data,
      firstName: users.firstName,
    })
    .from(emailMessages)
    .innerJoin(events, eq(events.id, emailMessages.eventId))
    .leftJoin(orders, eq(orders.id, events.orderId))
    .leftJoin(users, eq(users.id, orders.userId))
    .where(eq(emailMessages.id, emailId));
  if (!row || row.status !== "pending") return "done";
  const kind = emailKindOf(row);
  if (!kind || row.data === null) return "done";
  const email = orderEmail(shopName(env), kind, row.firstName ?? "", JSON.parse(row.data));
  const outcome = await sendEmail(env, row.recipient, email, `order-email-${row.eventId}-${emailId}`);
  const record = (fields: Partial<typeof emailMessages.$inferInsert>) =>
    db
      .update(emailMessages)
      .set({ ...fields, attempts: sql`${emailMessages.attempts} + 1`, updatedAt: nowIso() } as never)
      .where(eq(emailMessages.id, emailId));
  if (outcome.result === "retry") {
    await record({ lastStatus: outcome.status, lastError: outcome.error });
    return "retry";
  }
  if (outcome.result === "rejected") {
    await record({ status: "failed", lastStatus: outcome.status, lastError: outcome.error });
    return "done";
  }
  await record({ status: outcome.result === "sent" ? "sent" : "skipped", lastError: null });
  return "done";
}

/** After the last attempt (dead-letter queue). */
export async function markEmailFailed(db: Database, emailId: number) {
  await db.update(emailMessages).set({ status: "failed", updatedAt: nowIso() }).where(and(eq(emailMessages.id, emailId), eq(emailMessages.status, "pending")));
}

/** The reset link: from configuration only, never from a request's Host header. */
export function resetLink(env: Env, token: string): string {
  const base = env.PASSWORD_RESET_URL || `${(env.PUBLIC_BASE_URL || "http://localhost:8787").replace(/\/+$/, "")}/reset-password/`;
  const url = new URL(base);
  url.searchParams.set("token", token);
  return url.toString();
}

/**
 * The reset email for a token, if it is still the user's live token (an unknown address has no row, so nothing is
 * sent). The Idempotency-Key is derived from the token's hash: one email per request, whatever the retries.
 */
export async function sendPasswordResetEmail(env: Env, db: Database, token: string): Promise<AttemptOutcome> {
  const hash = await tokenHash(token);
  const [row] = await db
    .select({ email: users.email, firstName: users.firstName })
    .from(passwordResets)
    .innerJoin(users, eq(users.id, passwordResets.userId))
    .where(sql`${passwordResets.tokenHash} = ${hash} and ${passwordResets.usedAt} is null and ${passwordResets.expiresAt} > ${Date.now()}`);
  if (!row) return "done";
  const link = resetLink(env, token);
  const email = passwordResetEmail(shopName(env), row.firstName, link, Math.round(resetTtlSeconds(env) / 60));
  const outcome = await sendEmail(env, row.email, email, `password-reset-${hash}`, link);
  return outcome.result === "retry" ? "retry" : "done";
}

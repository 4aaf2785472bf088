/**
 * Order events: the types a webhook endpoint can subscribe to, and the messages on the events Queue.
 *
 * The flow (design.md, "Events out"): a trigger writes the event into the outbox (`events`) in the statement that
 * makes the change; after the response, `publishEvents` sends unsent events to the Queue (the scheduled sweep sends
 * any still unsent after a minute); the consumer fans each event out into one delivery per subscribed endpoint, and
 * each delivery is a message of its own, retried on its own. The sweep deletes events done for 30 days, with their
 * deliveries (retention.ts).
 */

export const EVENT_TYPES = [
  "order.created",
  "order.paid",
  "order.status_changed",
  "order.cancelled",
  "order.refunded",
  "product.low_stock",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The events Queue and its dead-letter queue, as named in wrangler.toml. */
export const EVENTS_QUEUE = "edge-shop-events";
export const EVENTS_DLQ = "edge-shop-events-dlq";

/**
 * A message on the events Queue: an event to fan out, one webhook delivery to attempt, one order email to send
 * (an `email_messages` row), or a password reset email (its token travels only in this message, never in D1).
 */
export type EventMessage =
  | { kind: "event"; id: string }
  | { kind: "delivery"; id: number }
  | { kind: "email"; id: number }
  | { kind: "password_reset"; token: string };

/**
 * Seconds before each retry of a failed delivery (`WEBHOOK_RETRY_DELAYS`, comma-separated): the n-th retry waits the
 * n-th value, and the last value for any retry past the list. wrangler.toml's `max_retries` ends the schedule.
 * The default is the production schedule: 12 attempts over about 77 hours, each delay within the Queue's limit.
 */
export const DEFAULT_RETRY_DELAYS = [5, 300, 1800, 7200, 18000, 36000, 43200, 43200, 43200, 43200, 43200];

export function retryDelays(env: Env): number[] {
  const parsed = (env.WEBHOOK_RETRY_DELAYS ?? "")
    .split(",")
    .map((v) => Number(v.trim()))
    .filter((v) => Number.isInteger(v) && v >= 0);
  return parsed.length ? parsed.map((v) => Math.min(v, 43200)) : DEFAULT_RETRY_DELAYS;
}

/** The delay before the retry that follows attempt `attempt` (1-based). */
export function retryDelay(env: Env, attempt: number): number {
  const delays = retryDelays(env);
  return delays[Math.min(Math.max(attempt, 1), delays.length) - 1];
}

/**
 * The events Queue's consumer (and its dead-letter queue's). Messages are handled concurrently and acknowledged one by
 * one, so one slow or failing receiver neither holds back nor retries the others. A failed message is retried with
 * the configured back-off (`WEBHOOK_RETRY_DELAYS`); after `max_retries` the Queue moves it to the dead-letter queue,
 * where a delivery becomes `failed` (an admin can redeliver it) and an event goes back to the outbox for the sweep.
 */
import { eq } from "drizzle-orm";
import { db as drizzle, type Database } from "../../db/client";
import { events } from "../../db/schema";
import { logError } from "../../lib/log";
import { markEmailFailed, sendOrderEmail, sendPasswordResetEmail } from "../messages/order-emails";
import { attemptDelivery, markDeliveryFailed } from "../webhooks/delivery";
import { EVENTS_DLQ, retryDelay, type EventMessage } from "./events";
import { fanOut } from "./fanout";

async function handle(env: Env, db: Database, message: Message<EventMessage>): Promise<void> {
  const body = message.body;
  const delay = retryDelay(env, message.attempts);
  if (body.kind === "event") {
    await fanOut(env, db, body.id);
    return message.ack();
  }
  if (body.kind === "delivery") {
    const outcome = await attemptDelivery(db, body.id, delay);
    return outcome === "done" ? message.ack() : message.retry({ delaySeconds: delay });
  }
  if (body.kind === "email" || body.kind === "password_reset") {
    const outcome = body.kind === "email" ? await sendOrderEmail(env, db, body.id) : await sendPasswordResetEmail(env, db, body.token);
    return outcome === "done" ? message.ack() : message.retry({ delaySeconds: delay });
  }
  message.ack(); // a message of an unknown kind (an older or newer Worker's): nothing here can handle it
}

async function handleDead(db: Database, message: Message<EventMessage>): Promise<void> {
  const body = message.body;
  if (body.kind === "delivery") await markDeliveryFailed(db, body.id);
  if (body.kind === "email") await markEmailFailed(db, body.id);
  // An event whose fan-out kept failing: unsent again, so the sweep tries it later instead of losing it.
  if (body.kind === "event") await db.update(events).set({ sentAt: null, claimedAt: null }).where(eq(events.id, body.id));
  message.ack();
}

export async function consumeEvents(batch: MessageBatch<EventMessage>, env: Env): Promise<void> {
  const db = drizzle(env.DB);
  const dead = batch.queue === EVENTS_DLQ;
  await Promise.all(
    batch.messages.map(async (message) => {
      try {
        await (dead ? handleDead(db, message) : handle(env, db, message));
      } catch (err) {
        logError("event message failed", err, { queue: batch.queue, kind: message.body?.kind, attempts: message.attempts });
        message.retry({ delaySeconds: retryDelay(env, message.attempts) });
      }
    }),
  );
}

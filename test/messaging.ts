/** Email test helpers: Resend stubbed behind `fetch`, and a Queue binding whose messages the test consumes itself. */
import { createExecutionContext, createMessageBatch, waitOnExecutionContext } from "cloudflare:test";
import { vi } from "vitest";
import worker from "../src/index";
import { EVENTS_QUEUE, type EventMessage } from "../src/features/events/events";
import { unique } from "./helpers";
import { envWith } from "./platform-fakes";

export const RESEND = "https://api.resend.test";

export interface Sent {
  headers: Record<string, string>;
  body: { from: string; to: string[]; subject: string; html: string; text: string };
}

/** Resend behind `fetch`: records each POST /emails and answers with `answer` (200 unless told otherwise). */
export function fakeResend(answer: (n: number) => Response = () => Response.json({ id: unique("email_") })) {
  const sent: Sent[] = [];
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
    const req = new Request(input, init);
    if (req.url !== `${RESEND}/emails` || req.method !== "POST") throw new Error(`unexpected fetch ${req.method} ${req.url}`);
    sent.push({ headers: Object.fromEntries(req.headers), body: await req.json() });
    return answer(sent.length);
  });
  return sent;
}

export function recordingQueue() {
  const sent: EventMessage[] = [];
  const queue = {
    send: async (body: EventMessage) => void sent.push(body),
    sendBatch: async (messages: { body: EventMessage }[]) => void sent.push(...messages.map((m) => m.body)),
  } as unknown as Queue;
  return { sent, queue };
}

/** The bindings of a shop with a Resend key, whose Queue messages the test hands to the consumer itself. */
export function mailingEnv() {
  const recorder = recordingQueue();
  const bindings = envWith({
    EVENTS: recorder.queue,
    RESEND_API_KEY: "re_test_key",
    EMAIL_API_BASE: RESEND,
    SHOP_NAME: "Chai & Co",
    EMAIL_FROM: "Chai & Co <orders@chai.example>",
    PUBLIC_BASE_URL: "https://shop.example",
    WEBHOOK_RETRY_DELAYS: "5,60",
  });
  return { recorder, bindings };
}

/** Runs the consumer on one batch; returns each message's retry and ack spies. */
export async function consume(queue: string, bodies: EventMessage[], bindings: Env, attempts = 1) {
  const batch = createMessageBatch<EventMessage>(
    queue,
    bodies.map((body, i) => ({ id: `m${i}-${unique("")}`, timestamp: new Date(), attempts, body })),
  );
  const retries = batch.messages.map((m) => vi.spyOn(m, "retry"));
  const acks = batch.messages.map((m) => vi.spyOn(m, "ack"));
  const ctx = createExecutionContext();
  await worker.queue(batch, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return { retries, acks };
}

/** Runs the consumer until the recorded Queue is empty (fan-outs produce more messages); returns the retried bodies. */
export async function drain(recorder: ReturnType<typeof recordingQueue>, bindings: Env, attempts = 1) {
  const retried: EventMessage[] = [];
  while (recorder.sent.length) {
    const bodies = recorder.sent.splice(0);
    const { retries } = await consume(EVENTS_QUEUE, bodies, bindings, attempts);
    retries.forEach((spy, i) => spy.mock.calls.length && retried.push(bodies[i]));
  }
  return retried;
}

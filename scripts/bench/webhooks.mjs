// Bench phase "1,000 events fanned out to 3 endpoints" (issue 21): deliveries per second through the outbox, the
// local Queue, the fan-out and the signed POSTs, and rows written per event. Bounded: one fresh state, 1,000 events,
// a 5-minute cap. Run alone with `BENCH_WEBHOOKS_ONLY=1 npm run bench`; `BENCH_WEBHOOKS=0` leaves it out of the full run.
//
// Setup (straight into D1, before the Worker starts): one customer, 3 endpoints (subscribed to order.created) on a
// receiver in this process, and 1,000 orders, whose insert trigger writes 1,000 order.created events into the outbox,
// aged past the sweep's one-minute wait. Then the Worker starts and the scheduled sweep (GET /__scheduled) publishes
// them; the clock runs from the first sweep to the 3,000th POST the receiver accepts.
import { createServer } from "node:http";
import { freePort } from "../lib/free-port.mjs";
import { d1Execute, freshState, removeState, startWorker } from "./worker.mjs";

export const WEBHOOK_EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 1000);
const ENDPOINTS = 3;
const LIMIT_MS = 5 * 60 * 1000;

export async function benchWebhooks(log = console.log) {
  const received = { count: 0, first: 0, last: 0, ids: new Set() };
  const receiver = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received.count++;
      received.ids.add(`${req.url} ${req.headers["webhook-id"]}`);
      received.last = Date.now();
      received.first ||= received.last;
      res.writeHead(204).end();
    });
  });
  const port = await freePort();
  await new Promise((resolve) => receiver.listen(port, "127.0.0.1", resolve));
  const dir = await freshState("webhooks");
  let worker;
  try {
    const endpoints = Array.from({ length: ENDPOINTS }, (_, i) =>
      `('http://127.0.0.1:${port}/hook-${i + 1}', '["order.created"]', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')`,
    ).join(", ");
    await d1Execute(dir, [
      "--command",
      `INSERT INTO users (username, email, password_hash) VALUES ('bench_hooks', 'bench_hooks@example.com', 'x');
       INSERT INTO webhook_endpoints (url, events, secret) VALUES ${endpoints};
       WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${WEBHOOK_EVENTS})
       INSERT INTO orders (user_id, order_number, hold_key, total_paise, shipping_address)
         SELECT (SELECT id FROM users WHERE username = 'bench_hooks'), 'BENCH-' || i, 'bench-hold-' || i, 10000, '1 Road' FROM n;
       UPDATE events SET created_at = '2000-01-01T00:00:00.000Z';`,
    ]);
    worker = await startWorker(dir, {
      vars: { WEBHOOKS_ALLOW_INSECURE_URLS: "1", WEBHOOK_RETRY_DELAYS: "1", RESEND_API_KEY: "", EMAIL_DEV_LOG: "0" },
      extraArgs: ["--test-scheduled"],
    });
    const expected = WEBHOOK_EVENTS * ENDPOINTS;
    const started = Date.now();
    let sweeps = 0;
    while (received.count < expected && Date.now() - started < LIMIT_MS) {
      await fetch(`${worker.base}/__scheduled`).then((r) => r.text()).catch(() => undefined);
      sweeps++;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const seconds = ((received.last || Date.now()) - started) / 1000;
    const result = {
      events: WEBHOOK_EVENTS,
      endpoints: ENDPOINTS,
      deliveries: received.count,
      distinctDeliveries: received.ids.size,
      seconds: Number(seconds.toFixed(1)),
      deliveriesPerSecond: Number((received.count / seconds).toFixed(1)),
      sweeps,
      complete: received.count >= expected,
    };
    worker.stop();
    worker = undefined;
    await new Promise((r) => setTimeout(r, 1500));
    // Rows the pipeline wrote, read back once the Worker is gone: each event row is inserted once and updated three
    // times (claimed, sent, data); each delivery row is inserted once and updated once per attempt.
    const out = await d1Execute(dir, [
      "--json",
      "--command",
      "SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM events WHERE sent_at IS NOT NULL AND data IS NOT NULL) AS sent, (SELECT count(*) FROM webhook_deliveries) AS deliveries, (SELECT coalesce(sum(attempts), 0) FROM webhook_deliveries) AS attempts",
    ]);
    const [{ results: [counts] }] = JSON.parse(out);
    const rowWrites = counts.events + 3 * counts.sent + counts.deliveries + counts.attempts;
    result.rowsWrittenPerEvent = Number((rowWrites / counts.events).toFixed(2));
    result.counts = counts;
    log(`webhooks: ${JSON.stringify(result)}`);
    return result;
  } finally {
    worker?.stop();
    receiver.close();
    removeState(dir);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await benchWebhooks();

// `npm run sim:flash`: a flash sale in production, modelled (issue 25). Not a test and not a benchmark: the 2-core
// machine here runs every object, D1 and the load generator on the same cores, so it cannot show what sharding does
// in production. This replays the storm against servers with the platform's throughput instead.
//
// Model (a discrete-event simulation; every figure below is a parameter, printed with the results):
// - Checkouts arrive at RATE per second (Poisson) for SECONDS; stock is a tenth of them, spread evenly over the shards.
// - A checkout does what src/features/orders/checkout.service.ts does, with the counts the X-Cost meter measured for
//   `create_order, 1 line` (README, cost table: 5 D1 calls, 17 rows written, 2 object calls):
//   claim the cart (one D1 write batch) -> reserve, asking shards round the ring from a random one until one has a
//   unit -> order batch (one D1 write batch) + commit (an object call), or, refused, release the cart (one D1 write).
// - Each shard object is one FIFO server: DO_WRITE_MS per call that writes (reserve taken, commit), DO_READ_MS per
//   refusal (nothing written). Defaults from the platform's numbers: about 400 calls/s for an object that writes
//   storage (docs: 200-500), about 1,000/s pass-through (the soft limit).
// - D1's primary is one FIFO server ("each database is single-threaded", docs): D1_CALL_MS per write call plus
//   D1_ROW_MS per row written (docs' example: 1 ms a query -> 1,000 queries/s).
// - HOP_MS between the placed Worker and an object or the primary (placement: 1-3 ms).
// - The sold-out flag: ISOLATES isolates take the requests at random; an isolate that saw every shard refuse with
//   nothing left refuses at once (no object call) for SOLD_OUT_TTL_MS, and skips a shard it saw empty as long.
// Three views: objects alone (D1 infinitely fast: what shards buy), today's design with D1 as the single writer
// (the next bottleneck), and the design that passes it (README, "Past the next bottleneck").
//
// Knobs (environment): SIM_SECONDS=2 SIM_DO_WRITE_MS=2.5 SIM_DO_READ_MS=1 SIM_D1_CALL_MS=0.5 SIM_D1_ROW_MS=0.02
// SIM_HOP_MS=2 SIM_ISOLATES=200

const num = (name, fallback) => Number(process.env[name] ?? fallback);
const P = {
  seconds: num("SIM_SECONDS", 2),
  doWriteMs: num("SIM_DO_WRITE_MS", 2.5),
  doReadMs: num("SIM_DO_READ_MS", 1),
  d1CallMs: num("SIM_D1_CALL_MS", 0.5),
  d1RowMs: num("SIM_D1_ROW_MS", 0.02),
  hopMs: num("SIM_HOP_MS", 2),
  isolates: num("SIM_ISOLATES", 200),
  soldOutTtlMs: 2000,
  // Rows written per step (X-Cost meter, create_order 1 line: 17 in all; the claim and the release write the cart row).
  claimRows: 1,
  orderRows: 16,
  releaseRows: 1,
  // The paper design: orders accepted in the shards, written by a Queue consumer in batches.
  queueBatch: 100,
  queueWaitMs: 50,
};

/** A seeded PRNG (mulberry32), so a run prints the same numbers every time. */
function rng(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A binary min-heap of [time, seq, fn]. */
class Events {
  heap = [];
  seq = 0;
  push(time, fn) {
    const h = this.heap;
    h.push([time, this.seq++, fn]);
    for (let i = h.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (h[p][0] < h[i][0] || (h[p][0] === h[i][0] && h[p][1] < h[i][1])) break;
      [h[p], h[i]] = [h[i], h[p]];
      i = p;
    }
  }
  pop() {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length) {
      h[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && (h[l][0] < h[m][0] || (h[l][0] === h[m][0] && h[l][1] < h[m][1]))) m = l;
        if (r < h.length && (h[r][0] < h[m][0] || (h[r][0] === h[m][0] && h[r][1] < h[m][1]))) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i], h[m]];
        i = m;
      }
    }
    return top;
  }
  get size() {
    return this.heap.length;
  }
}

/** A FIFO server: a request arriving at `t` is served when the server is free, for `ms`. Returns the finish time. */
class Server {
  freeAt = 0;
  busy = 0;
  serve(t, ms) {
    const start = Math.max(t, this.freeAt);
    this.freeAt = start + ms;
    this.busy += ms;
    return this.freeAt;
  }
}

/**
 * One storm. `d1`: "none" (infinitely fast), "today" (claim, order batch and release on the primary per checkout),
 * "batched" (the paper design: no primary write on the request path; accepted orders written in Queue batches).
 */
function simulate({ rate, shards, d1 }) {
  const rand = rng(rate * 131 + shards * 7 + d1.length);
  const total = Math.round(rate * P.seconds);
  const stock = Math.max(1, Math.round(total / 10));
  const available = Array.from({ length: shards }, (_, i) => Math.floor(stock / shards) + (i < stock % shards ? 1 : 0));
  const objects = Array.from({ length: shards }, () => new Server());
  const primary = new Server();
  const soldOutUntil = new Float64Array(P.isolates);
  const shardEmptyUntil = new Float64Array(P.isolates * shards);
  const events = new Events();
  const latencies = [];
  const orderLatencies = [];
  let sold = 0;
  let rows = 0;
  let d1Calls = 0;
  let objectCalls = 0;
  let lastDone = 0;
  const hop = P.hopMs;

  const d1Write = (t, rowCount) => {
    rows += rowCount;
    if (d1 !== "today") return t;
    d1Calls++;
    return primary.serve(t + hop, P.d1CallMs + rowCount * P.d1RowMs) + hop;
  };
  const done = (arrival, t, sold = false) => {
    latencies.push(t - arrival);
    if (sold) orderLatencies.push(t - arrival);
    lastDone = Math.max(lastDone, t);
  };
  // The paper design's Queue consumer: every queueWaitMs, one D1 call per queueBatch accepted orders.
  let pendingOrders = 0;
  const flushQueue = (t) => {
    while (pendingOrders > 0) {
      const n = Math.min(P.queueBatch, pendingOrders);
      pendingOrders -= n;
      d1Calls++;
      primary.serve(t, P.d1CallMs + n * (P.claimRows + P.orderRows) * P.d1RowMs);
    }
    if (t < P.seconds * 1000 + 5_000) events.push(t + P.queueWaitMs, flushQueue);
  };
  if (d1 === "batched") events.push(P.queueWaitMs, flushQueue);

  let t = 0;
  for (let i = 0; i < total; i++) {
    t += -Math.log(1 - rand()) * (1000 / rate);
    const arrival = t;
    const isolate = Math.floor(rand() * P.isolates);
    const start = Math.floor(rand() * shards);
    events.push(arrival, (now) => {
      const afterClaim = d1 === "batched" ? now : d1Write(now, P.claimRows);
      events.push(afterClaim, (now2) => {
        if (soldOutUntil[isolate] > now2) return done(arrival, d1 === "batched" ? now2 : d1Write(now2, P.releaseRows));
        let asked = 0;
        const ask = (when) => {
          // Shards this isolate saw empty within the TTL are skipped (inventory.client.ts).
          while (asked < shards - 1 && shardEmptyUntil[isolate * shards + ((start + asked) % shards)] > when) asked++;
          const s = (start + asked++) % shards;
          objectCalls++;
          const took = available[s] > 0;
          // The decision is made when the object serves the call: its stock is read at that moment.
          const finish = objects[s].serve(when + hop, took ? P.doWriteMs : P.doReadMs);
          events.push(finish, (now3) => {
            if (available[s] > 0) {
              available[s]--;
              sold++;
              if (d1 === "batched") {
                pendingOrders++;
                rows += P.claimRows + P.orderRows;
                return done(arrival, now3 + hop, true);
              }
              const afterOrder = d1Write(now3 + hop, P.orderRows);
              objectCalls++;
              return done(arrival, objects[s].serve(afterOrder + hop, P.doWriteMs) + hop, true);
            }
            shardEmptyUntil[isolate * shards + s] = now3 + P.soldOutTtlMs;
            if (asked < shards) return ask(now3 + hop);
            soldOutUntil[isolate] = now3 + P.soldOutTtlMs;
            done(arrival, d1 === "batched" ? now3 + hop : d1Write(now3 + hop, P.releaseRows));
          });
        };
        ask(now2);
      });
    });
  }
  while (events.size) {
    const [time, , fn] = events.pop();
    fn(time);
  }
  latencies.sort((a, b) => a - b);
  orderLatencies.sort((a, b) => a - b);
  const pct = (p, list = latencies) => list[Math.min(list.length - 1, Math.floor(list.length * p))];
  const makespan = Math.max(lastDone, primary.freeAt) / 1000;
  return {
    rate,
    shards,
    d1,
    checkouts: total,
    sold,
    stock,
    checkouts_per_s: Math.round(total / makespan),
    p50_ms: Math.round(pct(0.5)),
    p99_ms: Math.round(pct(0.99)),
    orders_p99_ms: Math.round(pct(0.99, orderLatencies)),
    busiest_object: Math.round((Math.max(...objects.map((o) => o.busy)) / 1000 / makespan) * 100),
    d1_busy: Math.round((primary.busy / 1000 / makespan) * 100),
    d1_calls_per_s: Math.round(d1Calls / makespan),
    rows_per_s: Math.round(rows / makespan),
    object_calls: objectCalls,
  };
}

const RATES = [500, 1000, 2000, 5000, 10000];
const SHARDS = [1, 2, 4, 8, 16, 32, 64];
const fmt = (n) => n.toLocaleString("en-US");

function table(title, d1, rates, shards) {
  console.log(`\n### ${title}\n`);
  console.log("| offered checkouts/s | shards | served checkouts/s | p50 ms | p99 ms | p99 ms of orders | busiest object | D1 primary busy | D1 write calls/s | rows written/s | sold / stock |");
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const rate of rates) {
    for (const n of shards) {
      const r = simulate({ rate, shards: n, d1 });
      if (r.sold !== r.stock) throw new Error(`model error: sold ${r.sold} of ${r.stock}`);
      console.log(
        `| ${fmt(rate)} | ${n} | ${fmt(r.checkouts_per_s)} | ${fmt(r.p50_ms)} | ${fmt(r.p99_ms)} | ${fmt(r.orders_p99_ms)} | ${r.busiest_object} % | ${r.d1_busy} % | ${fmt(r.d1_calls_per_s)} | ${fmt(r.rows_per_s)} | ${r.sold} / ${r.stock} |`,
      );
    }
  }
}

console.log(`# Flash sale, modelled: ${P.seconds} s of arrivals, stock a tenth of the checkouts`);
console.log(`\nParameters: ${JSON.stringify(P)}`);
table("1. Objects alone (D1 infinitely fast): what shards buy", "none", RATES, SHARDS);
table("2. Today's checkout, D1's primary as the single writer: the next bottleneck", "today", [1000, 2000, 10000], [1, 8, 32, 64]);
// What today's design asks of D1 at 10,000 checkouts/s, stock a tenth (every checkout claims its cart; a refusal
// releases it; an order writes its batch), against what one single-threaded primary can do with these costs.
{
  const rate = 10_000;
  const orders = rate / 10;
  const calls = rate + (rate - orders) + orders;
  const rowsPerS = rate * P.claimRows + (rate - orders) * P.releaseRows + orders * P.orderRows;
  const busyMsPerS = calls * P.d1CallMs + rowsPerS * P.d1RowMs;
  console.log(
    `\nThe next bottleneck: at ${fmt(rate)} checkouts/s today's checkout asks D1's primary for ${fmt(calls)} write calls/s ` +
      `(${fmt(rowsPerS)} rows written/s, ${fmt(orders * (P.claimRows + P.orderRows))} of them for the ${fmt(orders)} orders/s); ` +
      `at ${P.d1CallMs} ms a call + ${P.d1RowMs} ms a row that is ${fmt(Math.round(busyMsPerS))} ms of work per second: ` +
      `${(busyMsPerS / 1000).toFixed(1)} single-threaded primaries. Batched 100 orders a call, the orders alone need ` +
      `${fmt(orders / 100)} calls/s and ${fmt(Math.round((orders / 100) * P.d1CallMs + orders * (P.claimRows + P.orderRows) * P.d1RowMs))} ms of work per second.`,
  );
}
table("3. Past it (on paper): no primary write on the request path; orders written by a Queue consumer, 100 per D1 call", "batched", [1000, 10000], [8, 32, 64]);

// Markdown rendering of bench results (stdout and bench/results.md).

const pct = (f) => (f === null || f === undefined ? "" : `${Math.round(f * 100)}%`);

export function renderMarkdown(results) {
  const { machine, scales, targets } = results;
  const out = [];
  out.push(`# Benchmark results`, "");
  out.push(
    `${machine.date} · ${machine.cores} cores (${machine.cpu}) · ${machine.memory_gb} GB · Node ${machine.node} · ${machine.platform} · ` +
      `load average at start ${machine.loadavg_at_start.join(" / ")}`,
  );
  out.push("");
  const loadRows = scales.some((scale) => scale.rows.length > 0);
  if (loadRows) {
    out.push(
      `Worker under \`wrangler dev\` (local D1, Durable Objects, Queues) on 127.0.0.1; load from ${machine.tool}. ` +
        `${machine.connections} connections, ${machine.duration_s} s per case after a ${machine.warmup_s} s warm-up, unless the case says otherwise. ` +
        `"vs /health" is the case's requests/s as a fraction of the trivial route at the same scale (the better of its two runs, before and after the catalogue cases).`,
    );
    out.push("");
    out.push("| products | case | req/s | p50 ms | p99 ms | requests | non-2xx | errors | vs /health |", "|---:|---|---:|---:|---:|---:|---:|---:|---:|");
  }
  for (const scale of scales) {
    for (const r of scale.rows) {
      const none = r.requests === 0;
      const p50 = none ? `> ${Math.round(r.duration_s * 1000)}` : r.p50_ms;
      const p99 = none ? "n/a" : r.p99_ms;
      const errors = none ? `${r.errors} (none of ${r.unfinished} answered in time)` : r.errors;
      out.push(`| ${scale.products.toLocaleString("en-US")} | ${r.name} | ${r.rps} | ${p50} | ${p99} | ${r.requests} | ${r.non2xx}${r.non2xx ? ` (${codes(r)})` : ""} | ${errors} | ${pct(r.fraction_of_health)} |`);
    }
  }
  if (loadRows) out.push("");
  renderCost(out, results);
  for (const scale of scales) {
    const ceiling = scale.health_rps ? `; /health ceiling ${scale.health_rps} req/s` : "";
    out.push(`**${scale.products.toLocaleString("en-US")} products** (seeded by ${scale.seeder.seeder} in ${scale.seeder.seconds.toFixed(1)} s${ceiling})`, "");
    for (const note of scale.notes) out.push(`- ${note}`);
    out.push("");
  }
  if (targets?.length) {
    out.push("| target | case | measured | met |", "|---|---|---|---|");
    for (const t of targets) out.push(`| ${t.target} | ${t.case} | ${typeof t.value === "number" && t.value <= 1.5 && t.target.includes("%") ? pct(t.value) : t.value} | ${t.met ? "yes" : "**no**"} |`);
    out.push("");
  }
  out.push(
    "requests = answered within the case (requests still in flight when a timed case ends are not counted). " +
      "Load average (1 min) after each case is in results.json (`loadavg_1m`): anything else running on the machine skews the numbers.",
    "",
  );
  out.push(`Total run time ${results.total_seconds} s.`, "");
  return out.join("\n");
}

const codes = (r) =>
  Object.entries(r.status_codes)
    .filter(([code]) => !code.startsWith("2"))
    .map(([code, n]) => `${n}×${code}`)
    .join(", ");

const n = (v) => (typeof v === "number" ? v.toLocaleString("en-US") : "");

/** The cost table: one metered request per route and scale (scripts/bench/cost.mjs). */
function renderCost(out, results) {
  const scales = results.scales.filter((scale) => scale.cost?.length);
  if (!scales.length) return;
  const model = results.cost_model;
  out.push("## Cost per request", "");
  out.push(
    "One request at a time through the Worker's cost meter (`X-Cost`, src/lib/cost/). **rt**: round trips in sequence " +
      "(a step starts when an I/O starts while none of the request's other I/O is in flight, so a concurrent wave counts once; edge-cache " +
      "lookups count; `a–b` when parallel branches with sequences of their own make the lower bound a and the upper bound b differ). " +
      "**D1**: D1 calls (of which replica-eligible reads through a Sessions API session). **DO**: Durable Object calls from the Worker " +
      "(the objects' own D1 writes are not counted). **cache**: Cache API operations (hits). **far ms**: modeled latency for a far client: " +
      `${model.latency_ms.client} ms client to edge, plus per step its slowest I/O: a long hop (${model.latency_ms.long} ms: the edge to the D1 ` +
      `primary, an object or the data Worker, and a KV write from anywhere), a short one (${model.latency_ms.short} ms: the data Worker to the ` +
      `primary or an object), a local one (${model.latency_ms.local} ms: a replica, a KV read, the cache); **long/short**: the steps of each. ` +
      `**$/M**: platform cost of a million such requests at Cloudflare's Workers Paid prices of ${model.prices.as_of} beyond the included ` +
      `usage (Workers request, D1 rows read and written, DO requests and ${model.do_active_ms} ms of DO duration per call, KV operations; ` +
      "Worker CPU time not included). Background work (the edge-cache put) is in the counts, not in rt or far ms.",
    "",
  );
  out.push("| products | route | rt | long/short | D1 (replica) | rows read | rows written | DO | KV | cache (hits) | far ms | $/M |");
  out.push("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const scale of scales) {
    for (const c of scale.cost) {
      out.push(
        `| ${n(scale.products)} | ${c.case} | ${c.rt_max > c.rt ? `${c.rt}–${c.rt_max}` : c.rt} | ${c.long}/${c.short} | ${c.d1} (${c.d1_replica}) | ${n(c.rows_read)} | ${n(c.rows_written)} | ${c.do} | ${c.kv} | ${c.cache} (${c.cache_hits}) | ${n(c.model_ms)} | ${c.usd_per_million.total.toFixed(2)} |`,
      );
    }
  }
  out.push("");
}

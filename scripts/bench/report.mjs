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
  out.push(
    `Worker under \`wrangler dev\` (local D1, KV, Durable Objects) on 127.0.0.1; load from ${machine.tool}. ` +
      `${machine.connections} connections, ${machine.duration_s} s per case after a ${machine.warmup_s} s warm-up, unless the case says otherwise. ` +
      `"vs /health" is the case's requests/s as a fraction of the trivial route at the same scale (the better of its two runs, before and after the catalogue cases).`,
  );
  out.push("");
  out.push("| products | case | req/s | p50 ms | p99 ms | requests | non-2xx | errors | vs /health |");
  out.push("|---:|---|---:|---:|---:|---:|---:|---:|---:|");
  for (const scale of scales) {
    for (const r of scale.rows) {
      const none = r.requests === 0;
      const p50 = none ? `> ${Math.round(r.duration_s * 1000)}` : r.p50_ms;
      const p99 = none ? "n/a" : r.p99_ms;
      const errors = none ? `${r.errors} (none of ${r.unfinished} answered in time)` : r.errors;
      out.push(`| ${scale.products.toLocaleString("en-US")} | ${r.name} | ${r.rps} | ${p50} | ${p99} | ${r.requests} | ${r.non2xx}${r.non2xx ? ` (${codes(r)})` : ""} | ${errors} | ${pct(r.fraction_of_health)} |`);
    }
  }
  out.push("");
  for (const scale of scales) {
    out.push(`**${scale.products.toLocaleString("en-US")} products** (seeded by ${scale.seeder.seeder} in ${scale.seeder.seconds.toFixed(1)} s; /health ceiling ${scale.health_rps} req/s)`, "");
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

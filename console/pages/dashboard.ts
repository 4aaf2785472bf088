/**
 * Dashboard: what needs doing (orders to ship, unpaid orders about to expire, empty and low products), revenue, orders
 * by status, best sellers and 30 days of sales. Two API calls: the analytics dashboard and the sales report.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api, ok } from "../api";
import { money, shortDay, when, words } from "../format";
import { html, Loading, Message, useLoad } from "../ui";

const DAYS = 30;
const DAY_MS = 86_400_000;

async function load() {
  const [board, report] = await Promise.all([
    api.products.analytics.index.$get().then(ok),
    api.orders.sales_report.index.$get({ query: { days: String(DAYS) } }).then(ok),
  ]);
  return { board, report };
}

/** One point per UTC day of the window, zero where the report has no entry. */
function dailySeries(breakdown: { day: string; total: string }[]) {
  const totals = new Map(breakdown.map((d) => [d.day, Number(d.total)]));
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = DAYS - 1; i >= 0; i--) {
    const day = new Date(today - i * DAY_MS);
    xs.push(day.getTime() / 1000);
    ys.push(totals.get(day.toISOString().slice(0, 10)) ?? 0);
  }
  return [xs, ys] as [number[], number[]];
}

function SalesChart({ breakdown, total }: { breakdown: { day: string; total: string }[]; total: string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const chart = new uPlot(
      {
        width: Math.min(box.current.clientWidth || 640, 900),
        height: 240,
        series: [{}, { label: "Sales (₹)", stroke: "#1d5fa8", fill: "rgba(29, 95, 168, 0.12)", width: 2 }],
        axes: [{ values: (_u, ticks) => ticks.map((t) => shortDay(new Date(t * 1000))) }, { size: 70 }],
        legend: { show: false },
        cursor: { show: false },
      },
      dailySeries(breakdown),
      box.current,
    );
    return () => chart.destroy();
  }, [breakdown]);
  return html`<figure class="chart">
    <div ref=${box} role="img" aria-label=${`Sales per day over the last ${DAYS} days, ${money(total)} in all`}></div>
    <figcaption>Sales per day, last ${DAYS} days (paid orders)</figcaption>
  </figure>`;
}

export function Dashboard() {
  const { data, error } = useLoad(load, "dashboard");
  if (!data) return html`<h1>Dashboard</h1><${Message} error=${error} />${error ? null : html`<${Loading} />`}`;
  const { board, report } = data;
  const count = (status: string) => board.orders_by_status.find((s) => s.status === status)?.count ?? 0;
  const empty = board.low_stock_products.filter((p) => p.stock === 0).length;
  const low = board.low_stock_products.length;
  return html`<h1>Dashboard</h1>
    <${Message} error=${error} />
    <section aria-labelledby="todo"><h2 id="todo">To do</h2>
      <ul class="counters">
        <li><a href="#/orders?status=paid"><strong>${count("paid") + count("processing")}</strong> paid, waiting to ship</a></li>
        <li><a href="#/orders?status=pending"><strong>${board.unpaid_expiring_soon}</strong> unpaid, expiring within 10 minutes</a></li>
        <li><a href="#/low-stock"><strong>${empty}</strong> out of stock</a></li>
        <li><a href="#/low-stock"><strong>${low}${low >= 100 ? "+" : ""}</strong> low on stock</a></li>
      </ul>
    </section>
    <section aria-labelledby="sales"><h2 id="sales">Sales</h2>
      <dl class="figures">
        <div><dt>Revenue</dt><dd>${money(board.total_revenue)}</dd></div>
        <div><dt>Last ${DAYS} days</dt><dd>${money(report.total_revenue)} from ${report.total_orders} paid orders</dd></div>
        <div><dt>Products</dt><dd>${board.total_products} in ${board.total_categories} categories</dd></div>
      </dl>
      <${SalesChart} breakdown=${report.daily_breakdown} total=${report.total_revenue} />
    </section>
    <div class="columns">
      <section aria-labelledby="by-status"><h2 id="by-status">Orders by status</h2>
        <table><thead><tr><th scope="col">Status</th><th scope="col" class="num">Orders</th></tr></thead>
          <tbody>${board.orders_by_status.map(
            (s) => html`<tr><td><a href=${`#/orders?status=${s.status}`}>${words(s.status)}</a></td><td class="num">${s.count}</td></tr>`,
          )}</tbody></table>
      </section>
      <section aria-labelledby="top"><h2 id="top">Top products</h2>
        ${board.top_products.length === 0
          ? html`<p>No paid orders yet.</p>`
          : html`<table><thead><tr><th scope="col">Product</th><th scope="col" class="num">Sold</th><th scope="col" class="num">Revenue</th></tr></thead>
              <tbody>${board.top_products.map(
                (p) => html`<tr><td><a href=${`#/products/${p.product__id}`}>${p.product__name}</a></td><td class="num">${p.total_sold}</td><td class="num">${money(p.revenue)}</td></tr>`,
              )}</tbody></table>`}
      </section>
    </div>
    <section aria-labelledby="recent"><h2 id="recent">Recent orders</h2>
      <table><thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Status</th><th scope="col" class="num">Total</th></tr></thead>
        <tbody>${board.recent_orders.map(
          (o) => html`<tr><td><a href=${`#/orders/${o.id}`}>${o.order_number}</a></td><td>${when(o.created_at)}</td><td>${words(o.status)}</td><td class="num">${money(o.total_amount)}</td></tr>`,
        )}</tbody></table>
    </section>`;
}

/**
 * Orders: the list filtered by status, days and a search (order number, customer username or email), paged on the
 * server, with a CSV export of the same filters; and one order with its items, address and payment, where the status
 * changes and a cancel (refunded when paid) asks for confirmation first.
 */
import { useState } from "preact/hooks";
import { api, ApiFailure, failure as failureOf, ok } from "../api";
import { money, when, words } from "../format";
import { asFailure, FieldError, fieldProps, formText, go, html, Loading, Message, Pager, useLoad } from "../ui";

const PAGE_SIZE = 25;
const STATUSES = ["pending", "paid", "processing", "shipped", "delivered", "cancelled", "payment_failed"] as const;
type Status = (typeof STATUSES)[number];

interface OrderQuery {
  status?: Status;
  created_from?: string;
  created_to?: string;
  search?: string;
}

function filtersOf(params: URLSearchParams): OrderQuery {
  const status = params.get("status");
  return {
    status: STATUSES.includes(status as Status) ? (status as Status) : undefined,
    created_from: params.get("created_from") || undefined,
    created_to: params.get("created_to") || undefined,
    search: params.get("search") || undefined,
  };
}

/** Downloads the export through the API (it needs the bearer token, so a plain link cannot fetch it). */
async function downloadCsv(filters: OrderQuery) {
  const res = await api.orders.export.index.$get({ query: filters });
  if (!res.ok) throw await failureOf(res as unknown as Response);
  const name = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") ?? "")?.[1] ?? "orders.csv";
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await res.blob());
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
}

export function Orders({ params }: { params: URLSearchParams }) {
  const filters = filtersOf(params);
  const page = Number(params.get("page") ?? "1") || 1;
  const { data, error } = useLoad(
    () => api.orders.index.$get({ query: { ...filters, page: String(page), page_size: String(PAGE_SIZE) } }).then(ok),
    params.toString(),
  );
  const [exportFailure, setExportFailure] = useState<ApiFailure | null>(null);
  const [exporting, setExporting] = useState(false);

  function apply(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    go("/orders", {
      status: formText(form, "status"),
      created_from: formText(form, "created_from"),
      created_to: formText(form, "created_to"),
      search: formText(form, "search"),
    });
  }

  async function exportCsv() {
    setExporting(true);
    try {
      await downloadCsv(filters);
      setExportFailure(null);
    } catch (err) {
      setExportFailure(asFailure(err));
    } finally {
      setExporting(false);
    }
  }

  const fieldError = (name: string) => error?.fields[name]?.join(" ");
  return html`<h1>Orders</h1>
    <form class="filters" role="search" aria-label="Find orders" onSubmit=${apply}>
      <div><label for="order-status">Status</label>
        <select id="order-status" name="status">
          <option value="" selected=${!filters.status}>Any status</option>
          ${STATUSES.map((s) => html`<option value=${s} selected=${s === filters.status}>${words(s)}</option>`)}
        </select></div>
      <div><label for="order-from">From</label>
        <input id="order-from" name="created_from" type="date" defaultValue=${filters.created_from ?? ""}
          aria-invalid=${fieldError("created_from") ? "true" : undefined} /></div>
      <div><label for="order-to">To</label>
        <input id="order-to" name="created_to" type="date" defaultValue=${filters.created_to ?? ""}
          aria-invalid=${fieldError("created_to") ? "true" : undefined} /></div>
      <div><label for="order-search">Order number, username or email</label>
        <input id="order-search" name="search" type="search" defaultValue=${filters.search ?? ""} /></div>
      <button type="submit">Find</button>
      <button type="button" onClick=${exportCsv} disabled=${exporting}>Export CSV</button>
    </form>
    <${Message} error=${error ?? exportFailure} />
    ${!data
      ? error ? null : html`<${Loading} />`
      : data.results.length === 0
        ? html`<p>No orders match.</p>`
        : html`<table>
            <thead><tr><th scope="col">Order</th><th scope="col">Placed</th><th scope="col">Status</th><th scope="col">Payment</th>
              <th scope="col" class="num">Items</th><th scope="col" class="num">Total</th></tr></thead>
            <tbody>${data.results.map(
              (o) => html`<tr>
                <td><a href=${`#/orders/${o.id}`}>${o.order_number}</a></td><td>${when(o.created_at)}</td>
                <td>${words(o.status)}</td><td>${words(o.payment_status)}</td>
                <td class="num">${o.items_count}</td><td class="num">${money(o.total_amount)}</td>
              </tr>`,
            )}</tbody>
          </table>
          <${Pager} page=${page} count=${data.count} pageSize=${PAGE_SIZE} onPage=${(n: number) => go("/orders", { ...filters, page: n })} />`}`;
}

export function OrderDetail({ id }: { id: number }) {
  const { data: order, error, reload } = useLoad(() => api.orders[":id"].index.$get({ param: { id: String(id) } }).then(ok), String(id));
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);

  if (!order) return html`<h1>Order</h1><${Message} error=${error} />${error ? null : html`<${Loading} />`}`;

  async function setStatus(status: Status) {
    try {
      await ok(await api.orders[":id"].update_status.index.$patch({ param: { id: String(id) }, json: { status } }));
      setFailure(null);
      setNotice(status === "cancelled" ? "The order is cancelled; its stock is back." : `Status changed to ${words(status)}.`);
      setConfirming(false);
      reload();
    } catch (err) {
      setNotice(null);
      setFailure(asFailure(err));
    }
  }

  function change(event: Event) {
    event.preventDefault();
    void setStatus(formText(event.currentTarget as HTMLFormElement, "status") as Status);
  }

  const paid = order.payment_status === "success";
  const payment = order.payment;
  return html`<h1>Order ${order.order_number}</h1>
    <p><a href="#/orders">Back to orders</a></p>
    <${Message} error=${failure} notice=${notice} />
    <dl class="figures">
      <div><dt>Status</dt><dd>${words(order.status)}</dd></div>
      <div><dt>Payment</dt><dd>${words(order.payment_status)}</dd></div>
      <div><dt>Total</dt><dd>${money(order.total_amount)}</dd></div>
      <div><dt>Customer</dt><dd>${order.user_email}</dd></div>
      <div><dt>Placed</dt><dd>${when(order.created_at)}</dd></div>
      <div><dt>Updated</dt><dd>${when(order.updated_at)}</dd></div>
    </dl>
    <h2>Items</h2>
    <table>
      <thead><tr><th scope="col">Product</th><th scope="col" class="num">Quantity</th><th scope="col" class="num">Price paid</th><th scope="col" class="num">Subtotal</th></tr></thead>
      <tbody>${order.items.map(
        (item) => html`<tr><td><a href=${`#/products/${item.product.id}`}>${item.product_name}</a></td><td class="num">${item.quantity}</td>
          <td class="num">${money(item.price_at_purchase)}</td><td class="num">${money(item.subtotal)}</td></tr>`,
      )}</tbody>
    </table>
    <h2>Shipping address</h2>
    <p class="address">${order.shipping_address}</p>
    <h2>Payment record</h2>
    ${payment
      ? html`<dl class="figures">
          <div><dt>State</dt><dd>${payment.status}</dd></div>
          <div><dt>Amount</dt><dd>${money(payment.amount)} ${payment.currency}</dd></div>
          <div><dt>Razorpay order</dt><dd><code>${payment.razorpay_order_id ?? "—"}</code></dd></div>
          <div><dt>Razorpay payment</dt><dd><code>${payment.razorpay_payment_id ?? "—"}</code></dd></div>
          <div><dt>Razorpay refund</dt><dd><code>${payment.razorpay_refund_id ?? "—"}</code></dd></div>
        </dl>`
      : html`<p>No payment was started for this order.</p>`}
    ${order.status !== "cancelled" &&
    html`<h2>Change</h2>
      <form class="filters" onSubmit=${change} aria-label="Change status">
        <div><label for="order-new-status">New status</label>
          <select ...${fieldProps(failure, "status", "order-new")}>
            ${STATUSES.filter((s) => s !== "cancelled").map((s) => html`<option value=${s} selected=${s === order.status}>${words(s)}</option>`)}
          </select>
          <${FieldError} failure=${failure} name="status" form="order-new" /></div>
        <button type="submit">Update status</button>
      </form>
      ${confirming
        ? html`<div class="confirm" role="group" aria-label="Confirm cancel">
            <p>Cancel order ${order.order_number}? Its stock goes back on sale${paid ? ` and ${money(order.total_amount)} is refunded to the customer` : ""}.</p>
            <button type="button" class="danger" onClick=${() => setStatus("cancelled")}>Yes, cancel the order</button>
            <button type="button" onClick=${() => setConfirming(false)}>Keep the order</button>
          </div>`
        : html`<p><button type="button" onClick=${() => setConfirming(true)}>Cancel order</button></p>`}`}`;
}

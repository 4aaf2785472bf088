/**
 * Low stock: the API's list (each product below its own threshold, or the shop default), with a quick restock that
 * loads the product first and writes with If-Match, so a sale in between is never overwritten.
 */
import { useState } from "preact/hooks";
import { api, ApiFailure, ok } from "../api";
import { asFailure, FieldError, fieldProps, formText, html, Loading, Message, useLoad } from "../ui";

const DEFAULT_THRESHOLD = 10;

interface Loaded {
  id: number;
  name: string;
  stock: number;
  threshold: number | null;
  etag: string | null;
}

export function LowStock() {
  const { data, error, reload } = useLoad(() => api.products.low_stock.index.$get({ query: {} }).then(ok), "low-stock");
  const [open, setOpen] = useState<Loaded | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  async function openRestock(id: number) {
    try {
      const res = await api.products[":id"].index.$get({ param: { id: String(id) } });
      const product = await ok(res);
      setOpen({ id, name: product.name, stock: product.stock, threshold: product.low_stock_threshold, etag: res.headers.get("ETag") });
      setFailure(null);
      setNotice(null);
    } catch (err) {
      setFailure(asFailure(err));
    }
  }

  async function save(event: Event) {
    event.preventDefault();
    if (!open) return;
    const form = event.currentTarget as HTMLFormElement;
    const stock = formText(form, "stock");
    const threshold = formText(form, "low_stock_threshold");
    const integer = (text: string) => (/^-?\d+$/.test(text) ? Number(text) : text) as number;
    try {
      await ok(
        await api.products[":id"].index.$patch({
          param: { id: String(open.id) },
          json: { stock: integer(stock), low_stock_threshold: threshold === "" ? null : integer(threshold) },
          header: { "if-match": open.etag ?? undefined },
        }),
      );
      setNotice(`${open.name}: ${stock} in stock.`);
      setFailure(null);
      setOpen(null);
      reload();
    } catch (err) {
      setFailure(asFailure(err));
    }
  }

  const FORM = "restock";
  const general = failure && Object.keys(failure.fields).length === 0 ? failure : null;
  return html`<h1>Low stock</h1>
    <p>Products below their low-stock threshold (${DEFAULT_THRESHOLD} units where a product has none of its own), the emptiest first.</p>
    <${Message} error=${general ?? error} notice=${notice} />
    ${open &&
    html`<form class="filters" onSubmit=${save} aria-label=${`Restock ${open.name}`}>
      <p class="wide">Restock <strong>${open.name}</strong>: ${open.stock} in stock when loaded.
        ${failure?.status === 412 && html` <button type="button" onClick=${() => openRestock(open.id)}>Reload</button>`}</p>
      <div><label for=${`${FORM}-stock`}>New stock</label>
        <input ...${fieldProps(failure, "stock", FORM)} type="number" min="0" defaultValue=${open.stock} key=${open.etag} />
        <${FieldError} failure=${failure} name="stock" form=${FORM} /></div>
      <div><label for=${`${FORM}-low_stock_threshold`}>Threshold (blank: default)</label>
        <input ...${fieldProps(failure, "low_stock_threshold", FORM)} type="number" min="0" defaultValue=${open.threshold ?? ""} key=${`t${open.etag}`} />
        <${FieldError} failure=${failure} name="low_stock_threshold" form=${FORM} /></div>
      <button type="submit">Save stock</button>
      <button type="button" onClick=${() => (setOpen(null), setFailure(null))}>Close</button>
    </form>`}
    ${!data
      ? error ? null : html`<${Loading} />`
      : data.length === 0
        ? html`<p>Nothing is low on stock.</p>`
        : html`<table>
            <thead><tr><th scope="col">Product</th><th scope="col">Category</th><th scope="col" class="num">Stock</th><th scope="col" class="num">Threshold</th><th scope="col">Action</th></tr></thead>
            <tbody>${data.map(
              (p) => html`<tr>
                <td><a href=${`#/products/${p.id}`}>${p.name}</a></td><td>${p.category_name}</td>
                <td class="num">${p.stock}</td><td class="num">${p.low_stock_threshold ?? `${DEFAULT_THRESHOLD} (default)`}</td>
                <td><button type="button" class="small" onClick=${() => openRestock(p.id)} aria-label=${`Restock ${p.name}`}>Restock</button></td>
              </tr>`,
            )}</tbody>
          </table>`}`;
}

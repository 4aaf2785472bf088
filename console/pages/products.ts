/**
 * Products: the list (search, category, active, sort, pages) and one product's form (create, edit, delete). An edit
 * is sent with If-Match and the ETag the form was loaded with, so a sale made meanwhile is never overwritten: the
 * API answers 412 and the form says to reload.
 */
import { useState } from "preact/hooks";
import { api, ApiFailure, failure as failureOf, ok } from "../api";
import { money } from "../format";
import { asFailure, FieldError, fieldProps, formText, go, html, Loading, Message, Pager, useLoad } from "../ui";
import { categoryOptions, type CategoryNode } from "./categories";

const PAGE_SIZE = 20;
const SORTS = [
  ["-created_at", "Newest first"],
  ["name", "Name, A to Z"],
  ["price", "Price, lowest first"],
  ["-price", "Price, highest first"],
] as const;

const ACTIVE = [
  ["", "Active and inactive"],
  ["true", "Active only"],
  ["false", "Inactive only"],
] as const;

const allCategories = () => api.categories.all.index.$get().then(ok) as Promise<CategoryNode[]>;

export function Products({ params }: { params: URLSearchParams }) {
  const query = {
    search: params.get("search") ?? "",
    category: params.get("category") ?? "",
    is_active: params.get("is_active") ?? "",
    ordering: params.get("ordering") ?? "-created_at",
    page: Number(params.get("page") ?? "1") || 1,
  };
  const { data, error } = useLoad(
    () =>
      Promise.all([
        api.products.index
          .$get({
            query: {
              search: query.search || undefined,
              category: query.category || undefined,
              is_active: (query.is_active || undefined) as "true" | "false" | undefined,
              ordering: query.ordering,
              page: String(query.page),
              page_size: String(PAGE_SIZE),
            },
          })
          .then(ok),
        allCategories(),
      ]),
    params.toString(),
  );

  function filter(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    go("/products", {
      search: formText(form, "search"),
      category: formText(form, "category"),
      is_active: formText(form, "is_active"),
      ordering: formText(form, "ordering"),
    });
  }

  const [page, categories] = data ?? [null, []];
  return html`<h1>Products</h1>
    <p><a class="button" href="#/products/new">New product</a></p>
    <form class="filters" role="search" aria-label="Find products" onSubmit=${filter}>
      <div><label for="product-search">Search</label>
        <input id="product-search" name="search" type="search" defaultValue=${query.search} /></div>
      <div><label for="product-category">Category</label>
        <select id="product-category" name="category">
          <option value="" selected=${!query.category}>All categories</option>
          ${categoryOptions(categories).map((c) => html`<option value=${c.slug} selected=${c.slug === query.category}>${c.label}</option>`)}
        </select></div>
      <div><label for="product-active">Shown in the shop</label>
        <select id="product-active" name="is_active">
          ${ACTIVE.map(([value, label]) => html`<option value=${value} selected=${value === query.is_active}>${label}</option>`)}
        </select></div>
      <div><label for="product-sort">Sort</label>
        <select id="product-sort" name="ordering">
          ${SORTS.map(([value, label]) => html`<option value=${value} selected=${value === query.ordering}>${label}</option>`)}
        </select></div>
      <button type="submit">Find</button>
    </form>
    <${Message} error=${error} />
    ${!page
      ? error ? null : html`<${Loading} />`
      : page.results.length === 0
        ? html`<p>No products match.</p>`
        : html`<table>
            <thead><tr><th scope="col">Name</th><th scope="col">Category</th><th scope="col" class="num">Price</th><th scope="col" class="num">Stock</th><th scope="col">Active</th></tr></thead>
            <tbody>${page.results.map(
              (p) => html`<tr>
                <td><a href=${`#/products/${p.id}`}>${p.name}</a></td><td>${p.category_name}</td>
                <td class="num">${money(p.price)}</td><td class="num" data-stock=${p.id}>${p.stock}</td><td>${p.is_active ? "Yes" : "No"}</td>
              </tr>`,
            )}</tbody>
          </table>
          <${Pager} page=${query.page} count=${page.count} pageSize=${PAGE_SIZE}
            onPage=${(n: number) => go("/products", { ...query, page: n })} />`}`;
}

const FORM = "product";

/** An integer field as the API wants it; text that is not a whole number goes as is, for the API's own message. */
const integer = (text: string) => (/^-?\d+$/.test(text) ? Number(text) : text);

async function loadProduct(id: string) {
  const categories = allCategories();
  if (id === "new") return { product: null, etag: null, categories: await categories };
  const res = await api.products[":id"].index.$get({ param: { id } });
  const product = await ok(res);
  return { product, etag: res.headers.get("ETag"), categories: await categories };
}

export function ProductEdit({ id }: { id: string }) {
  const { data, error, reload } = useLoad(() => loadProduct(id), id);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);

  if (!data) return html`<h1>Product</h1><${Message} error=${error} />${error ? null : html`<${Loading} />`}`;
  const { product, etag, categories } = data;

  async function save(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const threshold = formText(form, "low_stock_threshold");
    const stock = formText(form, "stock");
    const fields = {
      name: formText(form, "name"),
      description: formText(form, "description") || null,
      price: formText(form, "price"),
      category: Number(formText(form, "category")),
      is_active: (form.elements.namedItem("is_active") as HTMLInputElement).checked,
      image_url: formText(form, "image_url") || null,
      low_stock_threshold: threshold === "" ? null : (integer(threshold) as number),
    };
    setNotice(null);
    try {
      if (product) {
        const json = { ...fields, ...(stock === "" ? {} : { stock: integer(stock) as number }) };
        await ok(await api.products[":id"].index.$patch({ param: { id }, json, header: { "if-match": etag ?? undefined } }));
        setFailure(null);
        setNotice("Saved.");
        reload();
      } else {
        const json = { ...fields, stock: stock === "" ? 0 : (integer(stock) as number) };
        const created = await ok(await api.products.index.$post({ json }));
        setFailure(null);
        go(`/products/${created.id}`);
      }
    } catch (err) {
      setFailure(asFailure(err));
    }
  }

  async function remove() {
    try {
      const res = await api.products[":id"].index.$delete({ param: { id } });
      if (!res.ok) throw await failureOf(res as unknown as Response);
      go("/products");
    } catch (err) {
      setConfirming(false);
      setFailure(asFailure(err));
    }
  }

  const conflict = failure?.status === 412;
  const general = failure && Object.keys(failure.fields).length === 0 ? failure : null;
  return html`<h1>${product ? product.name : "New product"}</h1>
    <p><a href="#/products">Back to products</a></p>
    <${Message} error=${general ?? error} notice=${notice} />
    ${conflict &&
    html`<p><button type="button" onClick=${() => (setFailure(null), reload())}>Reload the product</button></p>`}
    ${failure && !general && html`<p class="message error" role="alert">${failure.message}</p>`}
    <form class="edit" onSubmit=${save} aria-label=${product ? "Edit product" : "New product"} key=${etag ?? "new"} novalidate>
      <label for=${`${FORM}-name`}>Name</label>
      <input ...${fieldProps(failure, "name", FORM)} defaultValue=${product?.name ?? ""} required />
      <${FieldError} failure=${failure} name="name" form=${FORM} />
      <label for=${`${FORM}-description`}>Description</label>
      <textarea ...${fieldProps(failure, "description", FORM)} rows="3" defaultValue=${product?.description ?? ""}></textarea>
      <${FieldError} failure=${failure} name="description" form=${FORM} />
      <label for=${`${FORM}-price`}>Price (₹)</label>
      <input ...${fieldProps(failure, "price", FORM)} inputmode="decimal" defaultValue=${product?.price ?? ""} required />
      <${FieldError} failure=${failure} name="price" form=${FORM} />
      <label for=${`${FORM}-stock`}>Stock</label>
      <input ...${fieldProps(failure, "stock", FORM)} type="number" defaultValue=${product?.stock ?? 0} />
      <${FieldError} failure=${failure} name="stock" form=${FORM} />
      <label for=${`${FORM}-low_stock_threshold`}>Low-stock threshold (blank: the shop default)</label>
      <input ...${fieldProps(failure, "low_stock_threshold", FORM)} type="number" defaultValue=${product?.low_stock_threshold ?? ""} />
      <${FieldError} failure=${failure} name="low_stock_threshold" form=${FORM} />
      <label for=${`${FORM}-category`}>Category</label>
      <select ...${fieldProps(failure, "category", FORM)} required>
        <option value="" selected=${!product}>Choose a category</option>
        ${categoryOptions(categories).map((c) => html`<option value=${c.id} selected=${c.id === product?.category.id}>${c.label}</option>`)}
      </select>
      <${FieldError} failure=${failure} name="category" form=${FORM} />
      <label for=${`${FORM}-image_url`}>Image URL</label>
      <input ...${fieldProps(failure, "image_url", FORM)} type="url" defaultValue=${product?.image_url ?? ""} />
      <${FieldError} failure=${failure} name="image_url" form=${FORM} />
      <div class="check">
        <input ...${fieldProps(failure, "is_active", FORM)} type="checkbox" defaultChecked=${product?.is_active ?? true} />
        <label for=${`${FORM}-is_active`}>Active (shown in the shop)</label>
      </div>
      <button type="submit">${product ? "Save product" : "Create product"}</button>
    </form>
    ${product &&
    html`<section aria-labelledby="danger"><h2 id="danger">Delete</h2>
      ${confirming
        ? html`<p role="alert">Delete ${product.name}? This cannot be undone.</p>
            <button type="button" class="danger" onClick=${remove}>Yes, delete it</button>
            <button type="button" onClick=${() => setConfirming(false)}>Keep it</button>`
        : html`<button type="button" onClick=${() => setConfirming(true)}>Delete product</button>`}
    </section>`}`;
}

/** Categories: the tree; create, rename, move under another parent, delete (the API refuses while products use one). */
import { useState } from "preact/hooks";
import { api, ApiFailure, failure as failureOf, ok } from "../api";
import { asFailure, FieldError, fieldProps, formText, html, Loading, Message, useLoad } from "../ui";

export interface CategoryNode {
  id: number;
  name: string;
  slug: string;
  parent: number | null;
  children: CategoryNode[];
}

/** Every category as a select option, depth-first, indented under its parent. */
export function categoryOptions(all: CategoryNode[]) {
  const out: { id: number; slug: string; label: string }[] = [];
  const walk = (nodes: CategoryNode[], depth: number) => {
    for (const node of [...nodes].sort((a, b) => a.name.localeCompare(b.name))) {
      out.push({ id: node.id, slug: node.slug, label: `${"— ".repeat(depth)}${node.name}` });
      walk(node.children, depth + 1);
    }
  };
  walk(all.filter((c) => c.parent === null), 0);
  return out;
}

/** `id` and every category under it: a category cannot move under itself or its own descendants. */
function subtreeIds(node: CategoryNode): number[] {
  return [node.id, ...node.children.flatMap(subtreeIds)];
}

const parentValue = (text: string) => (text === "" ? null : Number(text));

export function Categories() {
  const { data, error, reload } = useLoad(() => api.categories.all.index.$get().then(ok) as Promise<CategoryNode[]>, "categories");
  const [editing, setEditing] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  if (!data) return html`<h1>Categories</h1><${Message} error=${error} />${error ? null : html`<${Loading} />`}`;
  const options = categoryOptions(data);

  async function run(action: () => Promise<unknown>, done: string) {
    try {
      await action();
      setFailure(null);
      setEditing(null);
      setNotice(done);
      reload();
    } catch (err) {
      setNotice(null);
      setFailure(asFailure(err));
    }
  }

  function create(event: Event) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const name = formText(form, "name");
    void run(async () => {
      await ok(await api.categories.index.$post({ json: { name, parent: parentValue(formText(form, "parent")) } }));
      form.reset();
    }, `Created ${name}.`);
  }

  function update(event: Event, node: CategoryNode) {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const json = { name: formText(form, "name"), parent: parentValue(formText(form, "parent")) };
    void run(async () => ok(await api.categories[":slug"].index.$patch({ param: { slug: node.slug }, json })), `Saved ${json.name}.`);
  }

  function remove(node: CategoryNode) {
    void run(async () => {
      const res = await api.categories[":slug"].index.$delete({ param: { slug: node.slug } });
      if (!res.ok) throw await failureOf(res as unknown as Response);
    }, `Deleted ${node.name}.`);
  }

  const general = failure && Object.keys(failure.fields).length === 0 ? failure : null;
  const Tree = ({ nodes }: { nodes: CategoryNode[] }): unknown =>
    html`<ul class="tree">${[...nodes].sort((a, b) => a.name.localeCompare(b.name)).map((node) => {
      const form = `category-${node.id}`;
      const excluded = new Set(subtreeIds(node));
      return html`<li key=${node.id}>
        <span class="name">${node.name}</span>
        ${editing === node.slug
          ? html`<form class="inline" onSubmit=${(e: Event) => update(e, node)} aria-label=${`Edit ${node.name}`}>
              <label for=${`${form}-name`}>Name</label>
              <input ...${fieldProps(failure, "name", form)} defaultValue=${node.name} />
              <label for=${`${form}-parent`}>Parent</label>
              <select ...${fieldProps(failure, "parent", form)}>
                <option value="" selected=${node.parent === null}>None (top level)</option>
                ${options.filter((o) => !excluded.has(o.id)).map((o) => html`<option value=${o.id} selected=${o.id === node.parent}>${o.label}</option>`)}
              </select>
              <button type="submit">Save</button>
              <button type="button" onClick=${() => (setEditing(null), setFailure(null))}>Cancel</button>
              <button type="button" class="danger" onClick=${() => remove(node)}>Delete ${node.name}</button>
              <${FieldError} failure=${failure} name="name" form=${form} />
              <${FieldError} failure=${failure} name="parent" form=${form} />
            </form>`
          : html`<button type="button" class="small" onClick=${() => (setEditing(node.slug), setFailure(null), setNotice(null))}
              aria-label=${`Edit ${node.name}`}>Edit</button>`}
        ${node.children.length > 0 && html`<${Tree} nodes=${node.children} />`}
      </li>`;
    })}</ul>`;

  return html`<h1>Categories</h1>
    <${Message} error=${general} notice=${notice} />
    <form class="filters" onSubmit=${create} aria-label="New category">
      <div><label for="new-category-name">New category</label>
        <input ...${fieldProps(editing ? null : failure, "name", "new-category")} required />
        <${FieldError} failure=${editing ? null : failure} name="name" form="new-category" /></div>
      <div><label for="new-category-parent">Under</label>
        <select ...${fieldProps(editing ? null : failure, "parent", "new-category")}>
          <option value="">None (top level)</option>
          ${options.map((o) => html`<option value=${o.id}>${o.label}</option>`)}
        </select></div>
      <button type="submit">Create category</button>
    </form>
    ${data.length === 0 ? html`<p>No categories yet.</p>` : html`<${Tree} nodes=${data.filter((c) => c.parent === null)} />`}`;
}

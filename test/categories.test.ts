import { describe, expect, it } from "vitest";
import { api, createAdmin, createCategory, createProduct, registerUser, unique } from "./helpers";

const admin = await createAdmin();
const customer = await registerUser("shopper");

describe("category create", () => {
  it("creates a root category with a slug from its name", async () => {
    const name = unique("Phones & Tablets ");
    const res = await api("POST", "/api/categories/", { token: admin.access, body: { name, description: "Handhelds" } });
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(["children", "created_at", "description", "id", "name", "parent", "slug", "updated_at"]);
    expect(res.body).toMatchObject({ name, description: "Handhelds", parent: null, children: [] });
    expect(res.body.slug).toMatch(/^phones-tablets-[a-z0-9]+$/);
  });

  it("gives colliding slugs a numeric suffix instead of failing", async () => {
    const base = unique("Gadgets ");
    const first = await createCategory(admin.access, { name: base });
    const second = await createCategory(admin.access, { name: `${base}!` });
    const third = await createCategory(admin.access, { name: `${base}?` });
    expect(second.slug).toBe(`${first.slug}-2`);
    expect(third.slug).toBe(`${first.slug}-3`);
  });

  it("falls back to a generic slug for names without ASCII letters", async () => {
    const res = await createCategory(admin.access, { name: "फ़ोन" });
    expect(res.slug).toBe("category");
  });

  it("refuses a duplicate name, case-insensitively", async () => {
    const existing = await createCategory(admin.access);
    const res = await api("POST", "/api/categories/", { token: admin.access, body: { name: existing.name.toUpperCase() } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ name: ["category with this name already exists."] });
  });

  it("names each invalid field", async () => {
    const missing = await api("POST", "/api/categories/", { token: admin.access, body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ name: ["This field is required."] });
    const bad = await api("POST", "/api/categories/", { token: admin.access, body: { name: "x".repeat(101), parent: "abc", slug: "mine" } });
    expect(bad.status).toBe(400);
    // slug is read-only: ignored, never an error
    expect(Object.keys(bad.body).sort()).toEqual(["name", "parent"]);
    const unknownParent = await api("POST", "/api/categories/", { token: admin.access, body: { name: unique("Orphan "), parent: 999999 } });
    expect(unknownParent.status).toBe(400);
    expect(unknownParent.body).toEqual({ parent: ['Invalid pk "999999" - object does not exist.'] });
  });

  it("is for admins only", async () => {
    const body = { name: unique("Nope ") };
    expect((await api("POST", "/api/categories/", { body })).status).toBe(401);
    const res = await api("POST", "/api/categories/", { token: customer.access, body });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ detail: "You do not have permission to perform this action." });
    expect((await api("POST", "/api/categories/", { token: "garbage", body })).status).toBe(401);
  });
});

describe("category reads", () => {
  it("lists roots with nested children, and all/ lists every category", async () => {
    const root = await createCategory(admin.access);
    const child = await createCategory(admin.access, { parent: root.id });
    const grandchild = await createCategory(admin.access, { parent: child.id });

    const list = await api("GET", "/api/categories/?page_size=100");
    expect(list.status).toBe(200);
    expect(list.body.results.every((c: { parent: number | null }) => c.parent === null)).toBe(true);
    const listed = list.body.results.find((c: { id: number }) => c.id === root.id);
    expect(listed.children).toHaveLength(1);
    expect(listed.children[0]).toMatchObject({ id: child.id, parent: root.id });
    expect(listed.children[0].children[0]).toMatchObject({ id: grandchild.id, parent: child.id, children: [] });

    const all = await api("GET", "/api/categories/all/");
    expect(all.status).toBe(200);
    const ids = all.body.map((c: { id: number }) => c.id);
    expect(ids).toEqual(expect.arrayContaining([root.id, child.id, grandchild.id]));
    expect(all.body.find((c: { id: number }) => c.id === child.id).children[0].id).toBe(grandchild.id);
  });

  it("resolves any category, root or child, by slug", async () => {
    const root = await createCategory(admin.access);
    const child = await createCategory(admin.access, { parent: root.id });
    const res = await api("GET", `/api/categories/${child.slug}/`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: child.id, parent: root.id, children: [] });
    const rootRes = await api("GET", `/api/categories/${root.slug}/`);
    expect(rootRes.body.children.map((c: { id: number }) => c.id)).toEqual([child.id]);
    const missing = await api("GET", "/api/categories/no-such-category/");
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ detail: "Not found." });
  });

  it("paginates the roots with DRF links", async () => {
    for (let i = 0; i < 3; i++) await createCategory(admin.access);
    const first = await api("GET", "/api/categories/?page_size=2");
    expect(first.body.count).toBeGreaterThanOrEqual(3);
    expect(first.body.results).toHaveLength(2);
    expect(first.body.previous).toBeNull();
    expect(first.body.next).toBe("https://shop.test/api/categories/?page=2&page_size=2");
    const second = await api("GET", "/api/categories/?page=2&page_size=2");
    expect(second.body.previous).toBe("https://shop.test/api/categories/?page_size=2");
    const past = await api("GET", "/api/categories/?page=999");
    expect(past.status).toBe(404);
    expect(past.body).toEqual({ detail: "Invalid page." });
    expect(await api("GET", "/api/categories/?page=abc")).toMatchObject({ status: 404, body: { detail: "Invalid page." } });
  });

  it("sends an ETag and answers 304 to a matching If-None-Match", async () => {
    const res = await api("GET", "/api/categories/all/");
    const etag = res.headers.get("ETag");
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=30");
    expect(res.headers.get("Vary")).toContain("Authorization");
    const again = await api("GET", "/api/categories/all/", { headers: { "If-None-Match": etag! } });
    expect(again.status).toBe(304);
    expect(again.headers.get("ETag")).toBe(etag);
    expect(again.headers.get("Cache-Control")).toBe("public, max-age=30");
    await createCategory(admin.access);
    const changed = await api("GET", "/api/categories/all/", { headers: { "If-None-Match": etag! } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("ETag")).not.toBe(etag);
  });
});

describe("category update", () => {
  it("renames without changing the slug (PUT and PATCH)", async () => {
    const category = await createCategory(admin.access);
    const name = unique("Books & Media ");
    const put = await api("PUT", `/api/categories/${category.slug}/`, { token: admin.access, body: { name, description: "Reading" } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: category.id, name, slug: category.slug, description: "Reading" });
    const patch = await api("PATCH", `/api/categories/${category.slug}/`, { token: admin.access, body: { description: null } });
    expect(patch.status).toBe(200);
    expect(patch.body).toMatchObject({ name, description: null });
    const putWithoutName = await api("PUT", `/api/categories/${category.slug}/`, { token: admin.access, body: { description: "x" } });
    expect(putWithoutName.status).toBe(400);
    expect(putWithoutName.body).toEqual({ name: ["This field is required."] });
  });

  it("moves a category under another and back to the root", async () => {
    const a = await createCategory(admin.access);
    const b = await createCategory(admin.access);
    const moved = await api("PATCH", `/api/categories/${b.slug}/`, { token: admin.access, body: { parent: a.id } });
    expect(moved.status).toBe(200);
    expect(moved.body.parent).toBe(a.id);
    expect((await api("GET", `/api/categories/${a.slug}/`)).body.children[0].id).toBe(b.id);
    const back = await api("PATCH", `/api/categories/${b.slug}/`, { token: admin.access, body: { parent: null } });
    expect(back.body.parent).toBeNull();
  });

  it("refuses to make a category its own ancestor", async () => {
    const root = await createCategory(admin.access);
    const child = await createCategory(admin.access, { parent: root.id });
    const grandchild = await createCategory(admin.access, { parent: child.id });
    for (const parent of [root.id, grandchild.id]) {
      const res = await api("PATCH", `/api/categories/${root.slug}/`, { token: admin.access, body: { parent } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ parent: ["A category cannot be its own parent or a descendant of itself."] });
    }
    expect((await api("GET", `/api/categories/${root.slug}/`)).body.parent).toBeNull();
    expect((await api("GET", "/api/categories/all/")).status).toBe(200);
  });

  it("refuses a duplicate name, an unknown parent and unknown slugs", async () => {
    const a = await createCategory(admin.access);
    const b = await createCategory(admin.access);
    const dup = await api("PATCH", `/api/categories/${b.slug}/`, { token: admin.access, body: { name: a.name } });
    expect(dup.status).toBe(400);
    expect(dup.body).toEqual({ name: ["category with this name already exists."] });
    const parent = await api("PATCH", `/api/categories/${b.slug}/`, { token: admin.access, body: { parent: 987654 } });
    expect(parent.body).toEqual({ parent: ['Invalid pk "987654" - object does not exist.'] });
    expect((await api("PATCH", "/api/categories/nope-nope/", { token: admin.access, body: { name: unique("X") } })).status).toBe(404);
  });

  it("is for admins only", async () => {
    const category = await createCategory(admin.access);
    expect((await api("PATCH", `/api/categories/${category.slug}/`, { body: { name: "x" } })).status).toBe(401);
    expect((await api("PATCH", `/api/categories/${category.slug}/`, { token: customer.access, body: { name: "x" } })).status).toBe(403);
    expect((await api("DELETE", `/api/categories/${category.slug}/`)).status).toBe(401);
    expect((await api("DELETE", `/api/categories/${category.slug}/`, { token: customer.access })).status).toBe(403);
  });
});

describe("category delete", () => {
  it("deletes a category with its subcategories", async () => {
    const root = await createCategory(admin.access);
    const child = await createCategory(admin.access, { parent: root.id });
    const res = await api("DELETE", `/api/categories/${root.slug}/`, { token: admin.access });
    expect(res.status).toBe(204);
    expect((await api("GET", `/api/categories/${root.slug}/`)).status).toBe(404);
    expect((await api("GET", `/api/categories/${child.slug}/`)).status).toBe(404);
    expect((await api("DELETE", `/api/categories/${root.slug}/`, { token: admin.access })).status).toBe(404);
  });

  it("refuses while the category or a descendant has products, and deletes nothing", async () => {
    const root = await createCategory(admin.access);
    const child = await createCategory(admin.access, { parent: root.id });
    await createProduct(admin.access, { category: child.id });
    for (const slug of [root.slug, child.slug]) {
      const res = await api("DELETE", `/api/categories/${slug}/`, { token: admin.access });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(/still has products/);
    }
    expect((await api("GET", `/api/categories/${child.slug}/`)).status).toBe(200);
  });
});

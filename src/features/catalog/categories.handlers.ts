import type { Handler } from "../../lib/openapi";
import { paginate } from "../../lib/pagination";
import type * as routes from "./categories.routes";
import * as service from "./categories.service";

export const listCategories: Handler<typeof routes.listCategoriesRoute> = async (c) => {
  const tree = service.categoryTree(await service.allCategories(c.get("db")));
  const page = await paginate(c, c.req.valid("query"), async ({ limit, offset }) => ({
    count: tree.roots.length,
    results: tree.roots.slice(offset, offset + limit).map(tree.render),
  }));
  return c.json(page, 200);
};

export const allCategories: Handler<typeof routes.allCategoriesRoute> = async (c) => {
  const rows = await service.allCategories(c.get("db"));
  const tree = service.categoryTree(rows);
  return c.json(rows.map(tree.render), 200);
};

export const getCategory: Handler<typeof routes.getCategoryRoute> = async (c) => {
  return c.json(await service.categoryBySlug(c.get("db"), c.req.valid("param").slug), 200);
};

export const createCategory: Handler<typeof routes.createCategoryRoute> = async (c) => {
  return c.json(await service.createCategory(c.get("db"), c.req.valid("json")), 201);
};

export const putCategory: Handler<typeof routes.putCategoryRoute> = async (c) => {
  return c.json(await service.updateCategory(c.get("db"), c.req.valid("param").slug, c.req.valid("json")), 200);
};

export const patchCategory: Handler<typeof routes.patchCategoryRoute> = async (c) => {
  return c.json(await service.updateCategory(c.get("db"), c.req.valid("param").slug, c.req.valid("json")), 200);
};

export const deleteCategory: Handler<typeof routes.deleteCategoryRoute> = async (c) => {
  await service.deleteCategory(c.get("db"), c.req.valid("param").slug);
  return c.body(null, 204);
};

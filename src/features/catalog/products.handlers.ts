import type { Context } from "hono";
import type { AppEnv } from "../../env";
import type { Handler } from "../../lib/openapi";
import { paginate } from "../../lib/pagination";
import type * as routes from "./products.routes";
import { featuredProducts, listProducts as queryProducts, lowStockProducts } from "./products.query";
import * as service from "./products.service";
import { toProductListOut } from "./products.view";

const isAdmin = (c: Context<AppEnv>) => c.get("user")?.isStaff === true;

export const listProducts: Handler<typeof routes.listProductsRoute> = async (c) => {
  const query = c.req.valid("query");
  const filters = {
    activeOnly: !isAdmin(c) || query.is_active === "true",
    inactiveOnly: isAdmin(c) && query.is_active === "false",
    searchTerms: query.search,
    category: query.category,
    minPrice: query.min_price,
    maxPrice: query.max_price,
    inStock: query.in_stock,
  };
  const page = await paginate(c, query, async (request) => {
    const { count, rows } = await queryProducts(c.get("db"), filters, query.ordering, request);
    return { count, results: rows.map(toProductListOut) };
  });
  return c.json(page, 200);
};

export const listFeatured: Handler<typeof routes.featuredProductsRoute> = async (c) => {
  const query = c.req.valid("query");
  const rows = await featuredProducts(c.get("db"), {
    category: query.category,
    minPrice: query.min_price,
    maxPrice: query.max_price,
    inStock: query.in_stock,
  });
  return c.json(rows.map(toProductListOut), 200);
};

export const listLowStock: Handler<typeof routes.lowStockProductsRoute> = async (c) => {
  const rows = await lowStockProducts(c.get("db"), c.req.valid("query").limit);
  return c.json(rows.map((row) => ({ ...toProductListOut(row), low_stock_threshold: row.lowStockThreshold })), 200);
};

/** The detail view with its ETag, set here (the etag middleware keeps it) so If-Match compares the very same value. */
async function detailWithEtag(c: Context<AppEnv>, id: number, includeInactive: boolean) {
  const view = await service.productDetail(c.get("db"), id, includeInactive);
  c.header("ETag", await service.productEtag(view));
  return view;
}

export const getProduct: Handler<typeof routes.getProductRoute> = async (c) => {
  return c.json(await detailWithEtag(c, c.req.valid("param").id, isAdmin(c)), 200);
};

export const createProduct: Handler<typeof routes.createProductRoute> = async (c) => {
  const id = await service.createProduct(c.get("db"), c.env, c.req.valid("json"));
  return c.json(await service.productDetail(c.get("db"), id, true), 201);
};

export const putProduct: Handler<typeof routes.putProductRoute> = async (c) => {
  const { id } = c.req.valid("param");
  await service.updateProduct(c.get("db"), c.env, id, c.req.valid("json"), c.req.valid("header")["if-match"]);
  return c.json(await detailWithEtag(c, id, true), 200);
};

export const patchProduct: Handler<typeof routes.patchProductRoute> = async (c) => {
  const { id } = c.req.valid("param");
  await service.updateProduct(c.get("db"), c.env, id, c.req.valid("json"), c.req.valid("header")["if-match"]);
  return c.json(await detailWithEtag(c, id, true), 200);
};

export const deleteProduct: Handler<typeof routes.deleteProductRoute> = async (c) => {
  await service.deleteProduct(c.get("db"), c.req.valid("param").id);
  return c.body(null, 204);
};

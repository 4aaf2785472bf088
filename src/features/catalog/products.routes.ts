import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errors, failure, IdParam, json, jsonBody, optionalBearerSecurity, publicSecurity } from "../../lib/openapi";
import { paginated } from "../../lib/pagination";
import { requireAdmin } from "../../middleware/auth";
import { cachedListing, invalidatesCatalog } from "./catalog.cache";
import {
  FeaturedQuery,
  IfMatchHeaders,
  LowStockProductSchema,
  LowStockQuery,
  ProductCreateBody,
  ProductDetailSchema,
  ProductListQuery,
  ProductPatchBody,
  ProductPutBody,
} from "./products.schemas";
import { ProductListSchema } from "./products.view";

const tags = ["Products"];
const admin = { security: bearerSecurity, middleware: [requireAdmin, invalidatesCatalog] };

export const listProductsRoute = createRoute({
  method: "get",
  path: "/products/",
  operationId: "listProducts",
  tags,
  summary: "Search, filter, order and page through products (admins also see inactive ones)",
  security: optionalBearerSecurity,
  middleware: cachedListing,
  request: { query: ProductListQuery },
  responses: { 200: json(paginated(ProductListSchema), "A page of products"), ...errors(400, 401, 404) },
});

export const featuredProductsRoute = createRoute({
  method: "get",
  path: "/products/featured/",
  operationId: "listFeaturedProducts",
  tags,
  summary: "The 10 newest active products (optionally filtered)",
  security: publicSecurity,
  middleware: cachedListing,
  request: { query: FeaturedQuery },
  responses: { 200: json(z.array(ProductListSchema), "Featured products"), ...errors(400, 401) },
});

export const lowStockProductsRoute = createRoute({
  method: "get",
  path: "/products/low_stock/",
  operationId: "listLowStockProducts",
  tags,
  summary: "Active products below their low_stock_threshold (10 units for a product without one), the emptiest first, at most `limit` (100) of them",
  ...admin,
  request: { query: LowStockQuery },
  responses: { 200: json(z.array(LowStockProductSchema), "Low-stock products"), ...errors(401, 403) },
});

export const getProductRoute = createRoute({
  method: "get",
  path: "/products/{id}/",
  operationId: "getProduct",
  tags,
  summary: "One product with its category (stock from the projection every stock change keeps current; cached 30 s; admins also see inactive ones)",
  security: optionalBearerSecurity,
  middleware: cachedListing,
  request: { params: IdParam },
  responses: { 200: json(ProductDetailSchema, "Product"), ...errors(401, 404) },
});

export const createProductRoute = createRoute({
  method: "post",
  path: "/products/",
  operationId: "createProduct",
  tags,
  summary: "Create a product; its slug comes from the name",
  ...admin,
  request: jsonBody(ProductCreateBody),
  responses: { 201: json(ProductDetailSchema, "Created"), ...errors(400, 401, 403) },
});

export const putProductRoute = createRoute({
  method: "put",
  path: "/products/{id}/",
  operationId: "replaceProduct",
  tags,
  summary: "Update a product (name, price and category required); conditional with If-Match (412 if it changed since)",
  ...admin,
  request: { params: IdParam, headers: IfMatchHeaders, ...jsonBody(ProductPutBody) },
  responses: { 200: json(ProductDetailSchema, "Updated"), ...errors(400, 401, 403, 404, 412) },
});

export const patchProductRoute = createRoute({
  method: "patch",
  path: "/products/{id}/",
  operationId: "updateProduct",
  tags,
  summary: "Update some fields; `stock` or `stock_adjustment` go through its inventory object; conditional with If-Match",
  ...admin,
  request: { params: IdParam, headers: IfMatchHeaders, ...jsonBody(ProductPatchBody) },
  responses: { 200: json(ProductDetailSchema, "Updated"), ...errors(400, 401, 403, 404, 412) },
});

export const deleteProductRoute = createRoute({
  method: "delete",
  path: "/products/{id}/",
  operationId: "deleteProduct",
  tags,
  summary: "Delete a product; refused while orders reference it",
  ...admin,
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...errors(401, 403, 404), 400: failure(400, "error") },
});

import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errorResponses, IdParam, json, jsonBody, preconditionFailedResponse } from "../../lib/openapi";
import { paginated } from "../../lib/pagination";
import { requireAdmin } from "../../middleware/auth";
import { cachedListing, invalidatesCatalog } from "./catalog.cache";
import {
  FeaturedQuery,
  IfMatchHeaders,
  LowStockQuery,
  ProductCreateBody,
  ProductDetailSchema,
  ProductListQuery,
  ProductPatchBody,
  ProductPutBody,
} from "./products.schemas";
import { ProductListSchema } from "./products.view";

const tags = ["Products"];
const { 400: badRequest, 401: unauthorized, 403: forbidden, 404: notFound, 413: tooLarge } = errorResponses;
const admin = { security: bearerSecurity, middleware: [requireAdmin, invalidatesCatalog] };

export const listProductsRoute = createRoute({
  method: "get",
  path: "/products/",
  tags,
  summary: "Search, filter, order and page through products (admins also see inactive ones)",
  middleware: cachedListing,
  request: { query: ProductListQuery },
  responses: { 200: json(paginated(ProductListSchema), "A page of products"), 400: badRequest, 401: unauthorized, 404: notFound },
});

export const featuredProductsRoute = createRoute({
  method: "get",
  path: "/products/featured/",
  tags,
  summary: "The 10 newest active products (optionally filtered)",
  middleware: cachedListing,
  request: { query: FeaturedQuery },
  responses: { 200: json(z.array(ProductListSchema), "Featured products"), 400: badRequest, 401: unauthorized },
});

export const lowStockProductsRoute = createRoute({
  method: "get",
  path: "/products/low_stock/",
  tags,
  summary: "Active products with fewer than 10 units in stock, the emptiest first, at most `limit` (100) of them",
  ...admin,
  request: { query: LowStockQuery },
  responses: { 200: json(z.array(ProductListSchema), "Low-stock products"), 401: unauthorized, 403: forbidden },
});

export const getProductRoute = createRoute({
  method: "get",
  path: "/products/{id}/",
  tags,
  summary: "One product with its category (stock from the projection every stock change keeps current; cached 30 s)",
  middleware: cachedListing,
  request: { params: IdParam },
  responses: { 200: json(ProductDetailSchema, "Product"), 401: unauthorized, 404: notFound },
});

export const createProductRoute = createRoute({
  method: "post",
  path: "/products/",
  tags,
  summary: "Create a product; its slug comes from the name",
  ...admin,
  request: jsonBody(ProductCreateBody),
  responses: { 201: json(ProductDetailSchema, "Created"), 400: badRequest, 401: unauthorized, 403: forbidden, 413: tooLarge },
});

export const putProductRoute = createRoute({
  method: "put",
  path: "/products/{id}/",
  tags,
  summary: "Update a product (name, price and category required)",
  ...admin,
  request: { params: IdParam, headers: IfMatchHeaders, ...jsonBody(ProductPutBody) },
  responses: {
    200: json(ProductDetailSchema, "Updated"),
    400: badRequest,
    401: unauthorized,
    403: forbidden,
    404: notFound,
    412: preconditionFailedResponse,
    413: tooLarge,
  },
});

export const patchProductRoute = createRoute({
  method: "patch",
  path: "/products/{id}/",
  tags,
  summary: "Update some fields of a product; `stock` is set through its inventory object",
  ...admin,
  request: { params: IdParam, headers: IfMatchHeaders, ...jsonBody(ProductPatchBody) },
  responses: {
    200: json(ProductDetailSchema, "Updated"),
    400: badRequest,
    401: unauthorized,
    403: forbidden,
    404: notFound,
    412: preconditionFailedResponse,
    413: tooLarge,
  },
});

export const deleteProductRoute = createRoute({
  method: "delete",
  path: "/products/{id}/",
  tags,
  summary: "Delete a product; refused while orders reference it",
  ...admin,
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, 400: badRequest, 401: unauthorized, 403: forbidden, 404: notFound },
});

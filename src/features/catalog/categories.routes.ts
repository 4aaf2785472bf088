import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errorResponses, json, jsonBody } from "../../lib/openapi";
import { paginated, paginationQuery } from "../../lib/pagination";
import { requireAdmin } from "../../middleware/auth";
import { cachedListing, invalidatesCatalog } from "./catalog.cache";
import { CategoryCreateBody, CategoryPatchBody, CategoryPutBody, CategorySchema, SlugParam } from "./categories.schemas";

const tags = ["Categories"];
const { 400: badRequest, 401: unauthorized, 403: forbidden, 404: notFound, 413: tooLarge } = errorResponses;
const admin = { security: bearerSecurity, middleware: [requireAdmin, invalidatesCatalog] };

export const listCategoriesRoute = createRoute({
  method: "get",
  path: "/categories/",
  tags,
  summary: "Root categories (paginated), each with its nested children",
  middleware: cachedListing,
  request: { query: z.object(paginationQuery) },
  responses: { 200: json(paginated(CategorySchema), "Root categories"), 401: unauthorized, 404: notFound },
});

export const allCategoriesRoute = createRoute({
  method: "get",
  path: "/categories/all/",
  tags,
  summary: "Every category (roots and descendants), each with its nested children; not paginated",
  middleware: cachedListing,
  responses: { 200: json(z.array(CategorySchema), "All categories"), 401: unauthorized },
});

export const getCategoryRoute = createRoute({
  method: "get",
  path: "/categories/{slug}/",
  tags,
  summary: "One category (root or child) by slug",
  middleware: cachedListing,
  request: { params: SlugParam },
  responses: { 200: json(CategorySchema, "Category"), 401: unauthorized, 404: notFound },
});

export const createCategoryRoute = createRoute({
  method: "post",
  path: "/categories/",
  tags,
  summary: "Create a category; its slug comes from the name",
  ...admin,
  request: jsonBody(CategoryCreateBody),
  responses: { 201: json(CategorySchema, "Created"), 400: badRequest, 401: unauthorized, 403: forbidden, 413: tooLarge },
});

export const putCategoryRoute = createRoute({
  method: "put",
  path: "/categories/{slug}/",
  tags,
  summary: "Update a category (name required); the slug does not change",
  ...admin,
  request: { params: SlugParam, ...jsonBody(CategoryPutBody) },
  responses: { 200: json(CategorySchema, "Updated"), 400: badRequest, 401: unauthorized, 403: forbidden, 404: notFound, 413: tooLarge },
});

export const patchCategoryRoute = createRoute({
  method: "patch",
  path: "/categories/{slug}/",
  tags,
  summary: "Update some fields of a category; it cannot become its own ancestor",
  ...admin,
  request: { params: SlugParam, ...jsonBody(CategoryPatchBody) },
  responses: { 200: json(CategorySchema, "Updated"), 400: badRequest, 401: unauthorized, 403: forbidden, 404: notFound, 413: tooLarge },
});

export const deleteCategoryRoute = createRoute({
  method: "delete",
  path: "/categories/{slug}/",
  tags,
  summary: "Delete a category and its subcategories; refused while any of them has products",
  ...admin,
  request: { params: SlugParam },
  responses: { 204: { description: "Deleted" }, 400: badRequest, 401: unauthorized, 403: forbidden, 404: notFound },
});

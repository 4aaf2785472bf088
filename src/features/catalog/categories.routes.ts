import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errors, failure, json, jsonBody, publicSecurity } from "../../lib/openapi";
import { paginated, paginationQuery } from "../../lib/pagination";
import { requireAdmin } from "../../middleware/auth";
import { cachedListing, invalidatesCatalog } from "./catalog.cache";
import { CategoryCreateBody, CategoryPatchBody, CategoryPutBody, CategorySchema, SlugParam } from "./categories.schemas";

const tags = ["Categories"];
const admin = { security: bearerSecurity, middleware: [requireAdmin, invalidatesCatalog] };

export const listCategoriesRoute = createRoute({
  method: "get",
  path: "/categories/",
  operationId: "listCategories",
  tags,
  summary: "Root categories (paginated), each with its nested children",
  security: publicSecurity,
  middleware: cachedListing,
  request: { query: z.object(paginationQuery) },
  responses: { 200: json(paginated(CategorySchema), "Root categories"), ...errors(401, 404) },
});

export const allCategoriesRoute = createRoute({
  method: "get",
  path: "/categories/all/",
  operationId: "listAllCategories",
  tags,
  summary: "Every category (roots and descendants), each with its nested children; not paginated",
  security: publicSecurity,
  middleware: cachedListing,
  responses: { 200: json(z.array(CategorySchema), "All categories"), ...errors(401) },
});

export const getCategoryRoute = createRoute({
  method: "get",
  path: "/categories/{slug}/",
  operationId: "getCategory",
  tags,
  summary: "One category (root or child) by slug",
  security: publicSecurity,
  middleware: cachedListing,
  request: { params: SlugParam },
  responses: { 200: json(CategorySchema, "Category"), ...errors(401, 404) },
});

export const createCategoryRoute = createRoute({
  method: "post",
  path: "/categories/",
  operationId: "createCategory",
  tags,
  summary: "Create a category; its slug comes from the name",
  ...admin,
  request: jsonBody(CategoryCreateBody),
  responses: { 201: json(CategorySchema, "Created"), ...errors(400, 401, 403) },
});

export const putCategoryRoute = createRoute({
  method: "put",
  path: "/categories/{slug}/",
  operationId: "replaceCategory",
  tags,
  summary: "Update a category (name required); the slug does not change",
  ...admin,
  request: { params: SlugParam, ...jsonBody(CategoryPutBody) },
  responses: { 200: json(CategorySchema, "Updated"), ...errors(400, 401, 403, 404) },
});

export const patchCategoryRoute = createRoute({
  method: "patch",
  path: "/categories/{slug}/",
  operationId: "updateCategory",
  tags,
  summary: "Update some fields of a category; it cannot become its own ancestor",
  ...admin,
  request: { params: SlugParam, ...jsonBody(CategoryPatchBody) },
  responses: { 200: json(CategorySchema, "Updated"), ...errors(400, 401, 403, 404) },
});

export const deleteCategoryRoute = createRoute({
  method: "delete",
  path: "/categories/{slug}/",
  operationId: "deleteCategory",
  tags,
  summary: "Delete a category and its subcategories; refused while any of them has products",
  ...admin,
  request: { params: SlugParam },
  responses: { 204: { description: "Deleted" }, ...errors(401, 403, 404), 400: failure(400, "error") },
});

import { createRouter, withFieldChecks } from "../../lib/openapi";
import * as handlers from "./categories.handlers";
import * as routes from "./categories.routes";
import { CategoryCreateBody, CategoryPatchBody } from "./categories.schemas";
import { categoryFieldErrors } from "./categories.service";

// A taken name or an unknown parent is reported with the body's other field errors, in one 400.
const createChecks = withFieldChecks(CategoryCreateBody, (c, fields) => categoryFieldErrors(c.get("db"), fields));
const updateChecks = withFieldChecks(CategoryPatchBody, (c, fields) => categoryFieldErrors(c.get("db"), fields, c.req.param("slug")));

// Static paths (all/) are registered before {slug}/ so they are not read as a slug.
export const categoriesRouter = createRouter()
  .openapi(routes.listCategoriesRoute, handlers.listCategories)
  .openapi(routes.allCategoriesRoute, handlers.allCategories)
  .openapi(routes.createCategoryRoute, handlers.createCategory, createChecks)
  .openapi(routes.getCategoryRoute, handlers.getCategory)
  .openapi(routes.putCategoryRoute, handlers.putCategory, updateChecks)
  .openapi(routes.patchCategoryRoute, handlers.patchCategory, updateChecks)
  .openapi(routes.deleteCategoryRoute, handlers.deleteCategory);

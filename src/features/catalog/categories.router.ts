import { createRouter } from "../../lib/openapi";
import * as handlers from "./categories.handlers";
import * as routes from "./categories.routes";

// Static paths (all/) are registered before {slug}/ so they are not read as a slug.
export const categoriesRouter = createRouter()
  .openapi(routes.listCategoriesRoute, handlers.listCategories)
  .openapi(routes.allCategoriesRoute, handlers.allCategories)
  .openapi(routes.createCategoryRoute, handlers.createCategory)
  .openapi(routes.getCategoryRoute, handlers.getCategory)
  .openapi(routes.putCategoryRoute, handlers.putCategory)
  .openapi(routes.patchCategoryRoute, handlers.patchCategory)
  .openapi(routes.deleteCategoryRoute, handlers.deleteCategory);

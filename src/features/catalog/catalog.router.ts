import { createRouter } from "../../lib/openapi";
import { categoriesRouter } from "./categories.router";
import { productsRouter } from "./products.router";

/** Categories and products, mounted under /api by the app. */
export const catalogRouter = createRouter().route("/", categoriesRouter).route("/", productsRouter);

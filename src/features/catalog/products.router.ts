import { createRouter, withFieldChecks } from "../../lib/openapi";
import * as handlers from "./products.handlers";
import * as routes from "./products.routes";
import { ProductPatchBody } from "./products.schemas";
import { productFieldErrors } from "./products.service";

// An unknown category is reported with the body's other field errors, in one 400.
const categoryCheck = withFieldChecks(ProductPatchBody, (c, fields) => productFieldErrors(c.get("db"), fields));

// Static paths (featured/, low_stock/) are registered before {id}/. /products/analytics/ belongs to analytics.
export const productsRouter = createRouter()
  .openapi(routes.listProductsRoute, handlers.listProducts)
  .openapi(routes.createProductRoute, handlers.createProduct, categoryCheck)
  .openapi(routes.featuredProductsRoute, handlers.listFeatured)
  .openapi(routes.lowStockProductsRoute, handlers.listLowStock)
  .openapi(routes.getProductRoute, handlers.getProduct)
  .openapi(routes.putProductRoute, handlers.putProduct, categoryCheck)
  .openapi(routes.patchProductRoute, handlers.patchProduct, categoryCheck)
  .openapi(routes.deleteProductRoute, handlers.deleteProduct);

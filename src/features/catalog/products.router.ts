import { createRouter } from "../../lib/openapi";
import * as handlers from "./products.handlers";
import * as routes from "./products.routes";

// Static paths (featured/, low_stock/) are registered before {id}/. /products/analytics/ belongs to analytics.
export const productsRouter = createRouter()
  .openapi(routes.listProductsRoute, handlers.listProducts)
  .openapi(routes.createProductRoute, handlers.createProduct)
  .openapi(routes.featuredProductsRoute, handlers.listFeatured)
  .openapi(routes.lowStockProductsRoute, handlers.listLowStock)
  .openapi(routes.getProductRoute, handlers.getProduct)
  .openapi(routes.putProductRoute, handlers.putProduct)
  .openapi(routes.patchProductRoute, handlers.patchProduct)
  .openapi(routes.deleteProductRoute, handlers.deleteProduct);

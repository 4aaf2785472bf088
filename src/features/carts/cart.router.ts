import { createRouter } from "../../lib/openapi";
import * as handlers from "./cart.handlers";
import * as routes from "./cart.routes";

export const cartRouter = createRouter()
  .openapi(routes.getCartRoute, handlers.getCart)
  .openapi(routes.addToCartRoute, handlers.addItem)
  .openapi(routes.updateCartItemRoute, handlers.updateItem)
  .openapi(routes.removeCartItemRoute, handlers.removeItem)
  .openapi(routes.clearCartRoute, handlers.clearCart);

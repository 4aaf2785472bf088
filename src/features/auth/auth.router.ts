import { createRouter } from "../../lib/openapi";
import * as handlers from "./auth.handlers";
import * as routes from "./auth.routes";

export const authRouter = createRouter()
  .openapi(routes.registerRoute, handlers.register)
  .openapi(routes.loginRoute, handlers.login)
  .openapi(routes.refreshRoute, handlers.refresh)
  .openapi(routes.logoutRoute, handlers.logoutHandler)
  .openapi(routes.getProfileRoute, handlers.getProfile)
  .openapi(routes.putProfileRoute, handlers.putProfile)
  .openapi(routes.patchProfileRoute, handlers.patchProfile)
  .openapi(routes.changePasswordRoute, handlers.changePasswordHandler)
  .openapi(routes.listAddressesRoute, handlers.listAddresses)
  .openapi(routes.createAddressRoute, handlers.createAddress)
  .openapi(routes.getAddressRoute, handlers.getAddress)
  .openapi(routes.patchAddressRoute, handlers.patchAddress)
  .openapi(routes.deleteAddressRoute, handlers.deleteAddress);

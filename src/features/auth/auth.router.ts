import { createRouter, withFieldChecks } from "../../lib/openapi";
import { currentUser } from "../../middleware/auth";
import * as handlers from "./auth.handlers";
import * as routes from "./auth.routes";
import { ProfilePatchBody, ProfilePutBody, RegisterBody } from "./auth.schemas";
import { userFieldErrors } from "./auth.service";

// A taken username or email is reported with the body's other field errors, in one 400.
const registerChecks = withFieldChecks(RegisterBody, (c, fields) => userFieldErrors(c.get("db"), fields));
const profileChecks = <S extends typeof ProfilePutBody | typeof ProfilePatchBody>(schema: S) =>
  withFieldChecks(schema, (c, { username, email }) => userFieldErrors(c.get("db"), { username, email }, currentUser(c).id));

export const authRouter = createRouter()
  .openapi(routes.registerRoute, handlers.register, registerChecks)
  .openapi(routes.loginRoute, handlers.login)
  .openapi(routes.refreshRoute, handlers.refresh)
  .openapi(routes.logoutRoute, handlers.logoutHandler)
  .openapi(routes.getProfileRoute, handlers.getProfile)
  .openapi(routes.putProfileRoute, handlers.putProfile, profileChecks(ProfilePutBody))
  .openapi(routes.patchProfileRoute, handlers.patchProfile, profileChecks(ProfilePatchBody))
  .openapi(routes.changePasswordRoute, handlers.changePasswordHandler)
  .openapi(routes.listAddressesRoute, handlers.listAddresses)
  .openapi(routes.createAddressRoute, handlers.createAddress)
  .openapi(routes.getAddressRoute, handlers.getAddress)
  .openapi(routes.patchAddressRoute, handlers.patchAddress)
  .openapi(routes.deleteAddressRoute, handlers.deleteAddress);

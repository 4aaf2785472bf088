import type { Handler } from "../../lib/openapi";
import { currentUser } from "../../middleware/auth";
import { mergeGuestCart } from "../carts/cart.service";
import * as addressService from "./addresses.service";
import type * as routes from "./auth.routes";
import {
  changePassword,
  checkCredentials,
  getUser,
  logout,
  registerUser,
  rotateRefreshToken,
  startSession,
  toUserOut,
  updateProfile,
} from "./auth.service";
import { beginLogin, finishLogin } from "./login-throttle";

export const register: Handler<typeof routes.registerRoute> = async (c) => {
  const db = c.get("db");
  const user = await registerUser(db, c.req.valid("json"));
  const { access, refresh } = await startSession(db, c.env.JWT_SECRET, user.id);
  await mergeGuestCart(c, user.id);
  return c.json({ user: toUserOut(user), tokens: { refresh, access }, message: "User registered successfully" }, 201);
};

export const login: Handler<typeof routes.loginRoute> = async (c) => {
  const db = c.get("db");
  const { username, password } = c.req.valid("json");
  const attempt = await beginLogin(c.env, username, c.req.header("CF-Connecting-IP"));
  let user: Awaited<ReturnType<typeof checkCredentials>>;
  try {
    user = await checkCredentials(db, username, password);
  } catch (err) {
    // Not a wrong password: the check itself failed (D1 down), so it counts as nothing.
    await finishLogin(attempt, "cancelled");
    throw err;
  }
  await finishLogin(attempt, user ? "success" : "failure");
  if (!user) {
    return c.json({ detail: "No active account found with the given credentials" }, 401, { "WWW-Authenticate": 'Bearer realm="api"' });
  }
  const { access, refresh } = await startSession(db, c.env.JWT_SECRET, user.id);
  await mergeGuestCart(c, user.id);
  return c.json({ refresh, access }, 200);
};

export const refresh: Handler<typeof routes.refreshRoute> = async (c) => {
  const tokens = await rotateRefreshToken(c.get("db"), c.env.JWT_SECRET, c.req.valid("json").refresh);
  return c.json(tokens, 200);
};

export const logoutHandler: Handler<typeof routes.logoutRoute> = async (c) => {
  const { refresh, all } = c.req.valid("json");
  await logout(c.get("db"), c.env.JWT_SECRET, currentUser(c), refresh, all);
  return c.json({ message: "Logout successful" }, 200);
};

export const getProfile: Handler<typeof routes.getProfileRoute> = async (c) => {
  return c.json(toUserOut(await getUser(c.get("db"), currentUser(c).id)), 200);
};

export const putProfile: Handler<typeof routes.putProfileRoute> = async (c) => {
  return c.json(toUserOut(await updateProfile(c.get("db"), currentUser(c).id, c.req.valid("json"))), 200);
};

export const patchProfile: Handler<typeof routes.patchProfileRoute> = async (c) => {
  return c.json(toUserOut(await updateProfile(c.get("db"), currentUser(c).id, c.req.valid("json"))), 200);
};

export const changePasswordHandler: Handler<typeof routes.changePasswordRoute> = async (c) => {
  const { old_password, new_password } = c.req.valid("json");
  await changePassword(c.get("db"), currentUser(c), old_password, new_password);
  return c.json({ message: "Password updated successfully" }, 200);
};

export const listAddresses: Handler<typeof routes.listAddressesRoute> = async (c) => {
  const rows = await addressService.listAddresses(c.get("db"), currentUser(c).id);
  return c.json(rows.map(addressService.toAddressOut), 200);
};

export const createAddress: Handler<typeof routes.createAddressRoute> = async (c) => {
  const row = await addressService.createAddress(c.get("db"), currentUser(c).id, c.req.valid("json"));
  return c.json(addressService.toAddressOut(row), 201);
};

export const getAddress: Handler<typeof routes.getAddressRoute> = async (c) => {
  const row = await addressService.getAddress(c.get("db"), currentUser(c).id, c.req.valid("param").id);
  return c.json(addressService.toAddressOut(row), 200);
};

export const patchAddress: Handler<typeof routes.patchAddressRoute> = async (c) => {
  const row = await addressService.updateAddress(c.get("db"), currentUser(c).id, c.req.valid("param").id, c.req.valid("json"));
  return c.json(addressService.toAddressOut(row), 200);
};

export const deleteAddress: Handler<typeof routes.deleteAddressRoute> = async (c) => {
  await addressService.deleteAddress(c.get("db"), currentUser(c).id, c.req.valid("param").id);
  return c.body(null, 204);
};

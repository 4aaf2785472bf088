import { limitedClientIp } from "../../lib/client-ip";
import type { Handler } from "../../lib/openapi";
import { currentUser } from "../../middleware/auth";
import { prepareGuestCartMerge } from "../carts/cart-merge";
import * as addressService from "./addresses.service";
import type * as routes from "./auth.routes";
import {
  changePassword,
  checkPassword,
  findAccount,
  getUser,
  logout,
  registerUser,
  rotateRefreshToken,
  startSession,
  toUserOut,
  updateProfile,
} from "./auth.service";
import { deviceTokenFits, issueDeviceToken, verifyDeviceToken } from "./device-tokens";
import { beginLogin, finishLogin, type LoginAttempt } from "./login-throttle";
import { admitRegistration } from "./ip-quota";

export const register: Handler<typeof routes.registerRoute> = async (c) => {
  const db = c.get("db");
  // Per client IP (ip-quota.ts); settled in the background: until then the attempt counts anyway.
  const settle = await admitRegistration(c.env, limitedClientIp(c));
  const [registered, merge] = await Promise.allSettled([registerUser(db, c.req.valid("json")), prepareGuestCartMerge(c)]);
  c.executionCtx.waitUntil(settle(registered.status === "fulfilled"));
  if (registered.status === "rejected") throw registered.reason;
  const user = registered.value;
  const guestCart = merge.status === "fulfilled" ? merge.value : null;
  const session = await startSession(db, c.env.JWT_SECRET, user, guestCart?.statements(db, user.id));
  if (session.merged) guestCart?.finish();
  return c.json({ user: toUserOut(user), tokens: { refresh: session.refresh, access: session.access }, message: "User registered successfully" }, 201);
};

/**
 * Three round trips in sequence: the throttle's admission, the account row and the guest cart to merge are read at
 * once (each at most two deep); then the password is checked (CPU only); then the throttle's outcome and one D1 batch
 * (the session, the merged cart lines and the anonymous cart's delete) at once.
 * A genuine device token is admitted on its own key only (login-throttle.ts); if it turns out not to be this
 * account's as it is now (another user's, or revoked by a credentials change), the attempt is admitted again under
 * today's keys, as a client without one.
 */
export const login: Handler<typeof routes.loginRoute> = async (c) => {
  const db = c.get("db");
  const { username, password, device_token } = c.req.valid("json");
  const clientIp = c.req.header("CF-Connecting-IP");
  const device = await verifyDeviceToken(c.env.JWT_SECRET, device_token);
  const [admission, account, merge] = await Promise.allSettled([
    beginLogin(c.env, username, clientIp, device?.deviceId),
    findAccount(db, username),
    prepareGuestCartMerge(c),
  ]);
  if (admission.status === "rejected") throw admission.reason;
  let attempt: LoginAttempt = admission.value;
  if (account.status === "rejected") {
    // Not a wrong password: the check itself failed (D1 down), so it counts as nothing.
    await finishLogin(attempt, "cancelled");
    throw account.reason;
  }
  if (device && !deviceTokenFits(device, account.value)) {
    await finishLogin(attempt, "cancelled");
    attempt = await beginLogin(c.env, username, clientIp);
  }
  const user = await checkPassword(account.value, password);
  if (!user) {
    await finishLogin(attempt, "failure");
    return c.json({ detail: "No active account found with the given credentials" }, 401, { "WWW-Authenticate": 'Bearer realm="api"' });
  }
  const guestCart = merge.status === "fulfilled" ? merge.value : null;
  const [, session, deviceToken] = await Promise.all([
    finishLogin(attempt, "success"),
    startSession(db, c.env.JWT_SECRET, user, guestCart?.statements(db, user.id)),
    issueDeviceToken(c.env.JWT_SECRET, user),
  ]);
  if (session.merged) guestCart?.finish();
  return c.json({ refresh: session.refresh, access: session.access, device_token: deviceToken }, 200);
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
  const user = await updateProfile(c.env, c.get("db"), currentUser(c), c.req.valid("json"), c.req.header("CF-Connecting-IP"));
  return c.json(toUserOut(user), 200);
};

export const patchProfile: Handler<typeof routes.patchProfileRoute> = async (c) => {
  const user = await updateProfile(c.env, c.get("db"), currentUser(c), c.req.valid("json"), c.req.header("CF-Connecting-IP"));
  return c.json(toUserOut(user), 200);
};

export const changePasswordHandler: Handler<typeof routes.changePasswordRoute> = async (c) => {
  const { old_password, new_password } = c.req.valid("json");
  const clientIp = c.req.header("CF-Connecting-IP");
  await changePassword(c.env, c.get("db"), currentUser(c), { oldPassword: old_password, newPassword: new_password, clientIp });
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

import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errors, failure, IdParam, json, jsonBody, publicSecurity } from "../../lib/openapi";
import { requireUser } from "../../middleware/auth";
import {
  AddressCreateBody,
  AddressPatchBody,
  AddressSchema,
  ChangePasswordBody,
  LoginBody,
  LoginResponse,
  LogoutBody,
  MessageSchema,
  ProfilePatchBody,
  ProfilePutBody,
  RefreshBody,
  RegisterBody,
  RegisterResponse,
  TokenPairSchema,
  UserSchema,
} from "./auth.schemas";

const tags = ["Auth"];
const authed = { security: bearerSecurity, middleware: requireUser };

export const registerRoute = createRoute({
  method: "post",
  path: "/register/",
  operationId: "register",
  tags,
  summary: "Create an account; returns tokens and merges the caller's anonymous cart",
  security: publicSecurity,
  request: jsonBody(RegisterBody),
  description:
    "At most `REGISTRATIONS_PER_IP_PER_HOUR` (10) accounts per client IP an hour; more answer 429 with `Retry-After`.",
  responses: { 201: json(RegisterResponse, "Registered"), ...errors(400, 401, 429) },
});

export const loginRoute = createRoute({
  method: "post",
  path: "/login/",
  operationId: "login",
  tags,
  summary: "Log in with username and password; merges the caller's anonymous cart",
  security: publicSecurity,
  request: jsonBody(LoginBody),
  responses: { 200: json(LoginResponse, "Tokens, and a device token for this device's next login"), ...errors(400, 401, 429) },
});

export const refreshRoute = createRoute({
  method: "post",
  path: "/token/refresh/",
  operationId: "refreshToken",
  tags,
  summary: "Exchange a refresh token for a new pair (the old refresh token is spent)",
  security: publicSecurity,
  request: jsonBody(RefreshBody),
  responses: { 200: json(TokenPairSchema, "New tokens"), ...errors(400, 401) },
});

export const logoutRoute = createRoute({
  method: "post",
  path: "/logout/",
  operationId: "logout",
  tags,
  summary: "Log out: ends the session of this refresh token (its access tokens too); `all: true` ends every session",
  description:
    "The user's other devices stay signed in unless `all` is true. The refresh token must be the caller's and unspent.",
  ...authed,
  request: jsonBody(LogoutBody),
  responses: { 200: json(MessageSchema, "Logged out"), ...errors(401), 400: failure(400, "fields", "error") },
});

export const getProfileRoute = createRoute({
  method: "get",
  path: "/profile/",
  operationId: "getProfile",
  tags,
  summary: "The caller's profile",
  ...authed,
  responses: { 200: json(UserSchema, "Profile"), ...errors(401) },
});

export const putProfileRoute = createRoute({
  method: "put",
  path: "/profile/",
  operationId: "replaceProfile",
  tags,
  summary: "Replace the caller's profile (username required)",
  ...authed,
  request: jsonBody(ProfilePutBody),
  responses: { 200: json(UserSchema, "Profile"), ...errors(400, 401, 429) },
});

export const patchProfileRoute = createRoute({
  method: "patch",
  path: "/profile/",
  operationId: "updateProfile",
  tags,
  summary: "Update some fields of the caller's profile",
  ...authed,
  request: jsonBody(ProfilePatchBody),
  responses: { 200: json(UserSchema, "Profile"), ...errors(400, 401, 429) },
});

export const changePasswordRoute = createRoute({
  method: "post",
  path: "/change-password/",
  operationId: "changePassword",
  tags,
  summary: "Change the password; ends the user's other sessions and every device token",
  description: "A wrong `old_password` counts as a failed login: the same limits apply (429 with `Retry-After`).",
  ...authed,
  request: jsonBody(ChangePasswordBody),
  responses: { 200: json(MessageSchema, "Password changed"), ...errors(400, 401, 429) },
});

const addressTags = ["Addresses"];

export const listAddressesRoute = createRoute({
  method: "get",
  path: "/addresses/",
  operationId: "listAddresses",
  tags: addressTags,
  summary: "The caller's addresses",
  ...authed,
  responses: { 200: json(z.array(AddressSchema), "Addresses"), ...errors(401) },
});

export const createAddressRoute = createRoute({
  method: "post",
  path: "/addresses/",
  operationId: "createAddress",
  tags: addressTags,
  summary: "Add an address",
  ...authed,
  request: jsonBody(AddressCreateBody),
  responses: { 201: json(AddressSchema, "Created"), ...errors(400, 401) },
});

export const getAddressRoute = createRoute({
  method: "get",
  path: "/addresses/{id}/",
  operationId: "getAddress",
  tags: addressTags,
  summary: "One of the caller's addresses",
  ...authed,
  request: { params: IdParam },
  responses: { 200: json(AddressSchema, "Address"), ...errors(401, 404) },
});

export const patchAddressRoute = createRoute({
  method: "patch",
  path: "/addresses/{id}/",
  operationId: "updateAddress",
  tags: addressTags,
  summary: "Update one of the caller's addresses",
  ...authed,
  request: { params: IdParam, ...jsonBody(AddressPatchBody) },
  responses: { 200: json(AddressSchema, "Address"), ...errors(400, 401, 404) },
});

export const deleteAddressRoute = createRoute({
  method: "delete",
  path: "/addresses/{id}/",
  operationId: "deleteAddress",
  tags: addressTags,
  summary: "Delete one of the caller's addresses",
  ...authed,
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, ...errors(401, 404) },
});

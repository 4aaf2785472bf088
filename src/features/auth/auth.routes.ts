import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errorResponses, IdParam, json, jsonBody } from "../../lib/openapi";
import { requireUser } from "../../middleware/auth";
import {
  AddressCreateBody,
  AddressPatchBody,
  AddressSchema,
  ChangePasswordBody,
  LoginBody,
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
const { 400: badRequest, 401: unauthorized, 404: notFound, 413: tooLarge, 429: tooMany } = errorResponses;
const authed = { security: bearerSecurity, middleware: requireUser };

export const registerRoute = createRoute({
  method: "post",
  path: "/register/",
  tags,
  summary: "Create an account; returns tokens and merges the caller's anonymous cart",
  request: jsonBody(RegisterBody),
  responses: { 201: json(RegisterResponse, "Registered"), 400: badRequest, 401: unauthorized, 413: tooLarge },
});

export const loginRoute = createRoute({
  method: "post",
  path: "/login/",
  tags,
  summary: "Log in with username and password; merges the caller's anonymous cart",
  request: jsonBody(LoginBody),
  responses: { 200: json(TokenPairSchema, "Tokens"), 400: badRequest, 401: unauthorized, 413: tooLarge, 429: tooMany },
});

export const refreshRoute = createRoute({
  method: "post",
  path: "/token/refresh/",
  tags,
  summary: "Exchange a refresh token for a new pair (the old refresh token is spent)",
  request: jsonBody(RefreshBody),
  responses: { 200: json(TokenPairSchema, "New tokens"), 400: badRequest, 401: unauthorized, 413: tooLarge },
});

export const logoutRoute = createRoute({
  method: "post",
  path: "/logout/",
  tags,
  summary: "Log out: ends the session of this refresh token (its access tokens too); `all: true` ends every session",
  description:
    "The user's other devices stay signed in unless `all` is true. The refresh token must be the caller's and unspent.",
  ...authed,
  request: jsonBody(LogoutBody),
  responses: { 200: json(MessageSchema, "Logged out"), 400: badRequest, 401: unauthorized, 413: tooLarge },
});

export const getProfileRoute = createRoute({
  method: "get",
  path: "/profile/",
  tags,
  summary: "The caller's profile",
  ...authed,
  responses: { 200: json(UserSchema, "Profile"), 401: unauthorized },
});

export const putProfileRoute = createRoute({
  method: "put",
  path: "/profile/",
  tags,
  summary: "Replace the caller's profile (username required)",
  ...authed,
  request: jsonBody(ProfilePutBody),
  responses: { 200: json(UserSchema, "Profile"), 400: badRequest, 401: unauthorized, 413: tooLarge },
});

export const patchProfileRoute = createRoute({
  method: "patch",
  path: "/profile/",
  tags,
  summary: "Update some fields of the caller's profile",
  ...authed,
  request: jsonBody(ProfilePatchBody),
  responses: { 200: json(UserSchema, "Profile"), 400: badRequest, 401: unauthorized, 413: tooLarge },
});

export const changePasswordRoute = createRoute({
  method: "post",
  path: "/change-password/",
  tags,
  summary: "Change the password; ends the user's other sessions",
  ...authed,
  request: jsonBody(ChangePasswordBody),
  responses: { 200: json(MessageSchema, "Password changed"), 400: badRequest, 401: unauthorized, 413: tooLarge },
});

const addressTags = ["Addresses"];

export const listAddressesRoute = createRoute({
  method: "get",
  path: "/addresses/",
  tags: addressTags,
  summary: "The caller's addresses",
  ...authed,
  responses: { 200: json(z.array(AddressSchema), "Addresses"), 401: unauthorized },
});

export const createAddressRoute = createRoute({
  method: "post",
  path: "/addresses/",
  tags: addressTags,
  summary: "Add an address",
  ...authed,
  request: jsonBody(AddressCreateBody),
  responses: { 201: json(AddressSchema, "Created"), 400: badRequest, 401: unauthorized, 413: tooLarge },
});

export const getAddressRoute = createRoute({
  method: "get",
  path: "/addresses/{id}/",
  tags: addressTags,
  summary: "One of the caller's addresses",
  ...authed,
  request: { params: IdParam },
  responses: { 200: json(AddressSchema, "Address"), 401: unauthorized, 404: notFound },
});

export const patchAddressRoute = createRoute({
  method: "patch",
  path: "/addresses/{id}/",
  tags: addressTags,
  summary: "Update one of the caller's addresses",
  ...authed,
  request: { params: IdParam, ...jsonBody(AddressPatchBody) },
  responses: { 200: json(AddressSchema, "Address"), 400: badRequest, 401: unauthorized, 404: notFound, 413: tooLarge },
});

export const deleteAddressRoute = createRoute({
  method: "delete",
  path: "/addresses/{id}/",
  tags: addressTags,
  summary: "Delete one of the caller's addresses",
  ...authed,
  request: { params: IdParam },
  responses: { 204: { description: "Deleted" }, 401: unauthorized, 404: notFound },
});

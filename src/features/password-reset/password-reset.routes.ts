import { createRoute, z } from "@hono/zod-openapi";
import { errors, json, jsonBody, publicSecurity } from "../../lib/openapi";

const tags = ["Auth"];

export const PasswordResetRequestBody = z
  .object({ email: z.string().trim().min(1).max(254).openapi({ example: "alice@example.com" }) })
  .openapi("PasswordResetRequest");

export const PasswordResetConfirmBody = z
  .object({
    token: z.string().min(1).max(512),
    new_password: z.string().min(1).max(128).openapi({ example: "Str0ng-Passw0rd!" }),
    new_password2: z.string().min(1).max(128).openapi({ example: "Str0ng-Passw0rd!" }),
  })
  .openapi("PasswordResetConfirm");

const DetailSchema = z.object({ detail: z.string() }).openapi("Detail");

export const requestResetRoute = createRoute({
  method: "post",
  path: "/",
  operationId: "requestPasswordReset",
  tags,
  summary: "Email a password reset link; the same answer whether or not an account has that email",
  description:
    "The link is valid for PASSWORD_RESET_TTL_SECONDS (30 minutes), once; a newer request makes older links useless. " +
    "At most 3 emails per address per hour (the answer does not change) and 20 requests per client IP per hour (429).",
  security: publicSecurity,
  request: jsonBody(PasswordResetRequestBody),
  responses: { 200: json(DetailSchema, "Accepted (whether or not the address exists)"), ...errors(400, 401, 429) },
});

export const confirmResetRoute = createRoute({
  method: "post",
  path: "/confirm/",
  operationId: "confirmPasswordReset",
  tags,
  summary: "Set a new password with a reset token; every session of the user ends; does not sign in",
  security: publicSecurity,
  request: jsonBody(PasswordResetConfirmBody),
  responses: { 200: json(DetailSchema, "Password changed"), ...errors(400, 401) },
});

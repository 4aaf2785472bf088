import { z } from "@hono/zod-openapi";
import { readOnly } from "../../lib/openapi";

const USERNAME = /^[\w.@+-]+$/;

const username = z
  .string()
  .trim()
  .min(1)
  .max(150)
  .regex(USERNAME, "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.")
  .openapi({ example: "alice" });
const email = z.string().trim().max(254).pipe(z.email("Enter a valid email address.")).openapi({ example: "alice@example.com" });
const name = z.string().max(150);
// An explicit example: generated clients and the Postman collection send it, and a random one may pass 15 characters.
const phone = z.string().trim().max(15).nullable().openapi({ example: "+919876543210" });
const password = z.string().min(1).max(128).openapi({ example: "Str0ng-Passw0rd!" });

export const UserSchema = z
  .object({
    id: readOnly(z.number().int()),
    username: z.string(),
    email: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    phone: z.string().nullable(),
    date_joined: readOnly(z.string().openapi({ example: "2026-11-24T17:07:28.418Z" })),
  })
  .openapi("User");

export const TokenPairSchema = z.object({ refresh: z.string(), access: z.string() }).openapi("TokenPair");

export const RegisterBody = z
  .object({
    username,
    email,
    password,
    password2: password,
    first_name: name.default(""),
    last_name: name.default(""),
    phone: phone.optional(),
  })
  .openapi("RegisterRequest");

export const RegisterResponse = z
  .object({ user: UserSchema, tokens: TokenPairSchema, message: z.string().openapi({ example: "User registered successfully" }) })
  .openapi("RegisterResponse");

const deviceTokenDoc =
  "Device token (OWASP device cookie): returned by every successful login; send it back with the next login from this " +
  "device. A login carrying it is throttled only by this device's own failures (5 in 15 minutes lock it), never by " +
  "other devices', other accounts' or a shared IP's. Revoked by any password change. Opaque: do not parse it.";

export const LoginBody = z
  .object({
    username: z.string().min(1).max(254),
    password: z.string().min(1).max(128),
    device_token: z.string().max(512).optional().openapi({ description: deviceTokenDoc }),
  })
  .openapi("LoginRequest");

export const LoginResponse = TokenPairSchema.extend({ device_token: z.string().openapi({ description: deviceTokenDoc }) }).openapi(
  "LoginResponse",
);

export const RefreshBody = z.object({ refresh: z.string().min(1).max(4096) }).openapi("RefreshRequest");

export const LogoutBody = RefreshBody.extend({
  all: z
    .boolean()
    .default(false)
    .openapi({ description: "Sign out everywhere: end every session of the user, not only this refresh token's" }),
}).openapi("LogoutRequest");

export const MessageSchema = z.object({ message: z.string() }).openapi("Message");

const currentPassword = z.string().min(1).max(128).optional().openapi({
  example: "Str0ng-Passw0rd!",
  description:
    "The account's password, required when `email` changes: the email is where a password reset goes, so an access " +
    "token alone must not move it. A wrong one counts as a failed login (same limits, 429 with `Retry-After`).",
});
const profileFields = { username, email, first_name: name, last_name: name, phone };
export const ProfilePatchBody = z.object(profileFields).partial().extend({ current_password: currentPassword }).openapi("ProfilePatch");
export const ProfilePutBody = z
  .object({
    ...profileFields,
    email: email.optional(),
    first_name: name.optional(),
    last_name: name.optional(),
    phone: phone.optional(),
    current_password: currentPassword,
  })
  .openapi("ProfilePut");

export const ChangePasswordBody = z
  .object({ old_password: z.string().min(1).max(128), new_password: password })
  .openapi("ChangePasswordRequest");

export const AddressSchema = z
  .object({
    id: readOnly(z.number().int()),
    address_type: z.enum(["shipping", "billing"]),
    street_address: z.string(),
    city: z.string(),
    state: z.string(),
    postal_code: z.string(),
    country: z.string(),
    phone: z.string().nullable(),
    is_default: z.boolean(),
    created_at: readOnly(z.string()),
  })
  .openapi("Address");

const addressFields = {
  address_type: z.enum(["shipping", "billing"]).default("shipping"),
  street_address: z.string().trim().min(1).max(1000),
  city: z.string().trim().min(1).max(100),
  state: z.string().trim().min(1).max(100),
  postal_code: z.string().trim().min(1).max(20),
  country: z.string().trim().min(1).max(100).default("India"),
  phone: phone.optional(),
  is_default: z.boolean().default(false),
};
export const AddressCreateBody = z.object(addressFields).openapi("AddressCreate");
export const AddressPatchBody = z
  .object({
    ...addressFields,
    address_type: z.enum(["shipping", "billing"]),
    country: z.string().trim().min(1).max(100),
    is_default: z.boolean(),
  })
  .partial()
  .openapi("AddressPatch");

/**
 * Request body limits, in front of every route and before authentication, so an oversized body is refused before
 * anything parses, hashes or verifies it (a 4 MB register must not cost a JSON parse and a PBKDF2 hash). JSON
 * routes take at most 64 KB; the Razorpay webhook up to 1 MB (its events are a few KB, with room for large notes).
 * Hono's `bodyLimit` trusts Content-Length when present and counts the bytes of a streamed (chunked) body.
 */
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { detail } from "../lib/errors";

export const JSON_BODY_LIMIT = 64 * 1024;
export const WEBHOOK_BODY_LIMIT = 1024 * 1024;
const WEBHOOK_PATH = "/api/payments/webhook/";

const limit = (maxSize: number) =>
  bodyLimit({
    maxSize,
    onError: () => {
      throw detail(413, `Request body too large. The limit is ${maxSize / 1024} KB.`);
    },
  });
const jsonLimit = limit(JSON_BODY_LIMIT);
const webhookLimit = limit(WEBHOOK_BODY_LIMIT);

export const limitBodySize = createMiddleware<AppEnv>((c, next) => (c.req.path === WEBHOOK_PATH ? webhookLimit : jsonLimit)(c, next));

import { z } from "@hono/zod-openapi";
import { DELIVERY_STATUSES } from "../../db/schema";
import { readOnly } from "../../lib/openapi";
import { EVENT_TYPES } from "../events/events";
import { MAX_URL_LENGTH } from "./url-rules";

const EventType = z.enum(EVENT_TYPES, { error: (issue) => `"${String(issue.input)}" is not a valid event type.` });

const Url = z
  .string()
  .min(1)
  .openapi({
    format: "uri",
    maxLength: MAX_URL_LENGTH,
    example: "https://hooks.example.com/shop",
    description: "https:// only, no credentials, no private or loopback IP literal, at most 2,048 characters",
  });
const Events = z.array(EventType).min(1, "Subscribe to at least one event type.").openapi({ example: ["order.created", "order.paid"] });
const Description = z.string().max(500);

export const CreateWebhookBody = z.object({ url: Url, events: Events, description: Description.optional() }).openapi("WebhookEndpointCreate");

export const UpdateWebhookBody = z
  .object({ url: Url, events: Events, description: Description, is_active: z.boolean() })
  .partial()
  .openapi("WebhookEndpointUpdate");

export const WebhookEndpointSchema = z
  .object({
    id: readOnly(z.number().int()),
    url: z.string(),
    events: z.array(EventType),
    description: z.string(),
    is_active: z.boolean(),
    disabled_reason: readOnly(z.string().nullable().openapi({ description: "Why the endpoint was disabled (e.g. it answered 410 Gone)" })),
    created_at: readOnly(z.string()),
    updated_at: readOnly(z.string()),
  })
  .openapi("WebhookEndpoint");

export const WebhookEndpointWithSecretSchema = WebhookEndpointSchema.extend({
  secret: readOnly(
    z.string().openapi({
      description: "The Standard Webhooks signing secret (`whsec_` + base64). Shown only when created or rotated.",
      example: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    }),
  ),
}).openapi("WebhookEndpointWithSecret");

export const WebhookDeliverySchema = z
  .object({
    id: z.number().int(),
    event_id: z.string().openapi({ description: "The message id: the `webhook-id` header, the same on every attempt" }),
    event_type: EventType,
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    last_status: z.number().int().nullable().openapi({ description: "HTTP status of the last answer (null: no answer)" }),
    last_error: z.string().nullable(),
    response_body: z.string().nullable().openapi({ description: "At most 1 KB of the last answer" }),
    next_attempt_at: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .openapi("WebhookDelivery");

export const DeliveryParams = z.object({
  id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER).openapi({ param: { name: "id", in: "path" }, example: 1 }),
  delivery_id: z.coerce
    .number()
    .int()
    .positive()
    .max(Number.MAX_SAFE_INTEGER)
    .openapi({ param: { name: "delivery_id", in: "path" }, example: 1 }),
});

export type CreateWebhookInput = z.infer<typeof CreateWebhookBody>;
export type UpdateWebhookInput = z.infer<typeof UpdateWebhookBody>;

import { z } from "@hono/zod-openapi";
import { parseMoney, priceInput } from "../../lib/money";
import { readOnly } from "../../lib/openapi";
import { paginationQuery } from "../../lib/pagination";
import { MAX_STOCK_SHARDS } from "../../inventory/inventory.shards";
import { boundedIntQuery } from "../../lib/query";
import { CategorySchema } from "./categories.schemas";
import { ProductListSchema } from "./products.view";
import { MAX_SEARCH_TERMS, searchTerms } from "./products.search";
import { DEFAULT_LOW_STOCK_THRESHOLD } from "./low-stock";

/** Below this many units the product is listed as low stock; null means the global default. */
const lowStockThreshold = z
  .number()
  .int()
  .min(0, "Ensure this value is greater than or equal to 0.")
  .max(2_147_483_647, "Ensure this value is less than or equal to 2147483647.")
  .nullable()
  .openapi({ example: 5, description: `Low stock below this many units; null: the default (${DEFAULT_LOW_STOCK_THRESHOLD})` });

/** The low-stock list's entries: the product and the threshold it is below. */
export const LowStockProductSchema = ProductListSchema.extend({ low_stock_threshold: lowStockThreshold }).openapi("LowStockProduct");

const maxPerCustomerDoc =
  "Purchase limit: the most units of this product one customer may have in live orders (every status but " +
  "`cancelled`: unpaid and paid), counting the order being placed. Add to cart and checkout refuse more with 400 " +
  "naming `quantity`. `null` (the default) = no limit.";

export const ProductDetailSchema = ProductListSchema.omit({ category_name: true })
  .extend({
    description: z.string().nullable(),
    low_stock_threshold: lowStockThreshold,
    category: CategorySchema,
    stock_shards: z.number().int().min(1).openapi({ description: "How many inventory objects the stock is spread over (admin-set; 1 for most products)" }),
    max_per_customer: z.number().int().nullable().openapi({ description: maxPerCustomerDoc, example: null }),
    updated_at: readOnly(z.string()),
  })
  .openapi("ProductDetail");

export type ProductDetailOut = z.infer<typeof ProductDetailSchema>;

// --- Query parameters of the list ---------------------------------------------------------------------------

export const ORDERING_FIELDS = ["price", "created_at", "name"] as const;
export type OrderingField = (typeof ORDERING_FIELDS)[number];
export interface OrderingKey {
  field: OrderingField;
  desc: boolean;
}

const VALID_ORDERINGS = ORDERING_FIELDS.flatMap((f) => [f, `-${f}`]).join(", ");

/** `ordering=-price,name`: known fields only (the original silently dropped unknown ones; we say so). */
const orderingQuery = z
  .string()
  .transform((value, ctx): OrderingKey[] => {
    const keys: OrderingKey[] = [];
    for (const part of value.split(",").map((p) => p.trim()).filter(Boolean)) {
      const field = part.replace(/^-/, "") as OrderingField;
      if (!ORDERING_FIELDS.includes(field)) {
        ctx.addIssue({ code: "custom", message: `Invalid ordering "${part.slice(0, 50)}". Valid options: ${VALID_ORDERINGS}.` });
        return z.NEVER;
      }
      if (!keys.some((k) => k.field === field)) keys.push({ field, desc: part.startsWith("-") });
    }
    return keys;
  })
  .openapi({ type: "string", example: "-price,name", description: `Comma-separated, from: ${VALID_ORDERINGS}` });

/** A price bound in rupees (`"499"`, `"499.50"`), as paise. */
const priceBound = z
  .string()
  .trim()
  .regex(/^\d{1,8}(\.\d{1,2})?$/, "Enter a non-negative number with at most 8 digits before and 2 after the decimal point.")
  .transform(parseMoney)
  .openapi({ type: "string", example: "499.00" });

const search = z
  .string()
  .max(200)
  .transform((value, ctx) => {
    const terms = searchTerms(value);
    if (terms.length > MAX_SEARCH_TERMS) {
      ctx.addIssue({ code: "custom", message: `Use at most ${MAX_SEARCH_TERMS} search terms.` });
      return z.NEVER;
    }
    return terms;
  })
  .openapi({ type: "string", example: "android phone", description: 'Every term (or "quoted phrase") must occur in the name or description. A search lists and counts at most its 100 newest matches, best match first (or in `ordering`).' });

/** Filters shared by the list and `featured/`. */
const filterQuery = {
  category: z.string().max(255).optional().openapi({ example: "electronics", description: "Slug of the product's own category" }),
  min_price: priceBound.optional(),
  max_price: priceBound.optional(),
  in_stock: z
    .string()
    .optional()
    .transform((value) => value?.toLowerCase() === "true")
    .openapi({ type: "string", example: "true", description: "`true` keeps products with stock > 0; other values are ignored" }),
};

/** Admins see inactive products too; this narrows their list to one kind. Everyone else sees active products only. */
const isActiveQuery = z
  .enum(["true", "false"], { error: 'Must be "true" or "false".' })
  .optional()
  .openapi({ description: "Admins only: `true` lists only active products, `false` only inactive ones (ignored for others)" });

export const ProductListQuery = z.object({
  search: search.optional(),
  ...filterQuery,
  is_active: isActiveQuery,
  ordering: orderingQuery.optional(),
  ...paginationQuery,
});
export const FeaturedQuery = z.object(filterQuery);

/** low_stock/ answers at most this many products (the emptiest first); it is a plain array, as the contract says. */
export const LOW_STOCK_MAX = 100;

/** `?limit=`: 1..100 as the document says, else 400 naming `limit` (it used to fall back to 100 silently). */
export const LowStockQuery = z.object({
  limit: boundedIntQuery({
    minimum: 1,
    maximum: LOW_STOCK_MAX,
    default: LOW_STOCK_MAX,
    description: `How many products to list, 1 to ${LOW_STOCK_MAX}; anything else is 400 naming \`limit\``,
  })
    .transform((limit) => limit ?? LOW_STOCK_MAX)
    .openapi({ param: { name: "limit", in: "query" } }),
});

// --- Request bodies ------------------------------------------------------------------------------------------

/** Django's URLField accepts http(s) URLs with a host; so do we. */
function isHttpUrl(value: string): boolean {
  if (/\s/.test(value) || !URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
}

/** A client that PUTs back the ProductDetail it got sends `category` as the nested Category: its `id` is the one meant. */
const nestedId = (value: unknown) =>
  typeof value === "object" && value !== null && !Array.isArray(value) && "id" in value ? value.id : value;

const productFields = {
  name: z.string().trim().min(1).max(255).openapi({ example: "Test Product" }),
  description: z.string().max(10_000).nullable().optional().openapi({ example: "A product for tests" }),
  price: priceInput,
  stock: z
    .number()
    .int()
    .min(0, "Stock cannot be negative")
    .max(2_147_483_647, "Ensure this value is less than or equal to 2147483647.")
    .openapi({ example: 100 }),
  image_url: z
    .string()
    .trim()
    .max(500)
    .refine((url) => url === "" || isHttpUrl(url), "Enter a valid URL.")
    .transform((url) => url || null)
    .nullable()
    .optional()
    .openapi({ example: "https://cdn.example/p/1.jpg" }),
  is_active: z.boolean().openapi({ example: true }),
  max_per_customer: z
    .number()
    .int()
    .min(1, "Ensure this value is greater than or equal to 1.")
    .max(1_000_000, "Ensure this value is less than or equal to 1000000.")
    .nullable()
    .optional()
    .openapi({ example: 2, description: maxPerCustomerDoc }),
  low_stock_threshold: lowStockThreshold.optional(),
  category: z
    .preprocess(nestedId, z.number().int().positive())
    // JSON Schema applies `minimum` to the integer only, `properties`/`required` to the object only.
    .openapi({
      type: ["integer", "object"],
      minimum: 1,
      properties: { id: { type: "integer", minimum: 1 } },
      required: ["id"],
      example: 1,
      description: "Category id (or the nested Category that ProductDetail shows)",
    }),
};

/** A flash sale's knob (README, "How stock stays right"): how many inventory objects the stock is spread over. */
const stock_shards = z
  .number()
  .int()
  .min(1, "Ensure this value is greater than or equal to 1.")
  .max(MAX_STOCK_SHARDS, `Ensure this value is less than or equal to ${MAX_STOCK_SHARDS}.`)
  .openapi({
    example: 1,
    description:
      "How many inventory objects (shards) the stock is spread over: 1 (the default) for most products; about one per 250 checkouts/s expected for a flash sale. Changing it moves units between shards; none are lost or counted twice.",
  });

const { stock, is_active } = productFields;

/** A relative stock change for admins who restock without reading first; applied in the inventory object. */
const stock_adjustment = z
  .number()
  .int()
  .min(-2_147_483_647)
  .max(2_147_483_647)
  .optional()
  .openapi({ example: 25, description: "Add (or, negative, remove) units; refused if fewer are available. Not with `stock`." });

export const ProductCreateBody = z
  .object({ ...productFields, stock: stock.default(0), is_active: is_active.default(true), stock_shards: stock_shards.default(1) })
  .openapi("ProductCreate");
/** PUT needs name, price and category; optional fields left out keep their value (DRF's non-partial update). */
/** The service refuses both at once (400 naming `stock_adjustment`); the schema says so, for validating clients. */
const notBothStockFields = { not: { properties: { stock: {}, stock_adjustment: {} }, required: ["stock", "stock_adjustment"] } };
export const ProductPutBody = z
  .object({ ...productFields, stock: stock.optional(), is_active: is_active.optional(), stock_adjustment, stock_shards: stock_shards.optional() })
  .openapi("ProductPut", notBothStockFields);
export const ProductPatchBody = z.object({ ...productFields, stock_adjustment, stock_shards }).partial().openapi("ProductPatch", notBothStockFields);

/** `If-Match`: the product's ETag from the GET the form was loaded with; a stale one answers 412. */
export const IfMatchHeaders = z.object({
  "if-match": z
    .string()
    .max(1000)
    .optional()
    .openapi({ example: '"3f2a..."', description: "ETag of the product as last read (412 if it has changed since)" }),
});

export type ProductInput = z.infer<typeof ProductPatchBody>;

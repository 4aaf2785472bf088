import { z } from "@hono/zod-openapi";

/** Paise -> the contract's decimal string: 12990000 -> "129900.00". */
export function formatMoney(paise: number): string {
  const sign = paise < 0 ? "-" : "";
  const abs = Math.abs(Math.round(paise));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** A decimal string or number with at most 2 places -> paise, without floating point rounding. */
export function parseMoney(value: string | number): number {
  const [whole, frac = ""] = String(value).split(".");
  return Number(whole) * 100 + Number(frac.padEnd(2, "0"));
}

const DECIMAL = /^\d+(\.\d+)?$/;

/** Request schema for a DRF DecimalField(max_digits=10, decimal_places=2) that must be > 0, as paise. */
export const priceInput = z
  .union([z.string(), z.number()])
  .superRefine((value, ctx) => {
    const text = typeof value === "number" ? (Number.isFinite(value) ? String(value) : "x") : value.trim();
    const unsigned = text.startsWith("-") ? text.slice(1) : text;
    if (!DECIMAL.test(unsigned)) return ctx.addIssue({ code: "custom", message: "A valid number is required." });
    const [whole, frac = ""] = unsigned.split(".");
    if (frac.length > 2) return ctx.addIssue({ code: "custom", message: "Ensure that there are no more than 2 decimal places." });
    if (whole.replace(/^0+/, "").length > 8)
      return ctx.addIssue({ code: "custom", message: "Ensure that there are no more than 8 digits before the decimal point." });
    if (text.startsWith("-") || parseMoney(unsigned) <= 0) ctx.addIssue({ code: "custom", message: "Price must be greater than 0" });
  })
  .transform((value) => parseMoney(String(value).trim()))
  // JSON Schema applies `pattern` to strings only and the bounds to numbers only.
  .openapi({
    type: ["string", "number"],
    pattern: "^\\s*0*\\d{1,8}(\\.\\d{1,2})?\\s*$",
    exclusiveMinimum: 0,
    maximum: 99_999_999.99,
    example: "129900.00",
    description: "Decimal with up to 2 places and 8 digits before the point, > 0; a decimal string or a JSON number",
  });

/** Response schema for money. */
export const money = z.string().openapi({ example: "129900.00", description: "Decimal string with 2 places" });

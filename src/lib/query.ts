/**
 * Query parameters that are bounded integers. The OpenAPI document states the bounds, so a validating client refuses
 * what is outside them; the server refuses the same values with DRF's 400 `{"name": ["message"]}`, so the document
 * and the server agree in both directions (issue 29). A repeated parameter counts by its last value (Django's
 * `QueryDict.get`); an empty value (`?page_size=`) counts as absent, as DRF reads it.
 */
import { z } from "@hono/zod-openapi";

/** A repeated query parameter arrives as an array; like Django's `QueryDict.get`, the last value counts. */
export const lastValue = (value: unknown) => (Array.isArray(value) ? value.at(-1) : value);

const lastNonEmpty = (value: unknown) => {
  const last = lastValue(value);
  return typeof last === "string" && last.trim() === "" ? undefined : last;
};

interface Bounds {
  minimum: number;
  maximum: number;
  default: number;
  description: string;
  example?: number;
}

/** An optional integer query parameter in `minimum..maximum`; absent is `undefined` (the caller applies the default). */
export function boundedIntQuery({ minimum, maximum, ...doc }: Bounds) {
  return z
    .preprocess(
      lastNonEmpty,
      z
        .string()
        .trim()
        .regex(/^[-+]?\d+$/, "A valid integer is required.")
        .transform(Number)
        .pipe(
          z
            .number()
            .min(minimum, `Ensure this value is greater than or equal to ${minimum}.`)
            .max(maximum, `Ensure this value is less than or equal to ${maximum}.`),
        )
        .optional(),
    )
    .openapi({ type: "integer", minimum, maximum, ...doc });
}

/** Slugs for categories and products: Django's `slugify`, made unique by an `-N` suffix inside one SQL statement. */
import { sql, type SQL } from "drizzle-orm";
import type { categories, products } from "../../db/schema";

const MAX_BASE_LENGTH = 200;

/** Django's slugify(allow_unicode=False): ASCII-folded, lower case, spaces and hyphens collapsed to `-`. */
export function slugify(value: string, fallback: string): string {
  const slug = value
    .normalize("NFKD")
    .replace(/[^\x00-\x7f]/g, "")
    .toLowerCase()
    .replace(/[^\w\s-]/g, "")
    .replace(/[-\s]+/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "")
    .slice(0, MAX_BASE_LENGTH)
    .replace(/[-_]+$/, "");
  return slug || fallback;
}

/**
 * SQL expression for the first free slug: `base` if unused, else `base-N` with N one above the largest numeric
 * suffix in use. It is evaluated inside the INSERT itself, and D1 runs one statement at a time, so two concurrent
 * creates of the same name cannot both pick the same slug. The range condition keeps the lookup on the slug index
 * and selects exactly the slugs that start with `base-`; the suffix test is a constant GLOB, because D1 refuses
 * LIKE/GLOB patterns over 50 bytes and `base` alone may be 200 (a pattern built from it answered 500).
 */
export function uniqueSlugSql(table: typeof categories | typeof products, base: string): SQL {
  const suffixStart = base.length + 2;
  return sql`(SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM ${table} WHERE ${table.slug} = ${base}) THEN ${base}
    ELSE ${base} || '-' || (
      SELECT coalesce(max(CAST(substr(${table.slug}, ${suffixStart}) AS INTEGER)), 1) + 1 FROM ${table}
      WHERE ${table.slug} >= ${`${base}-`} AND ${table.slug} < ${`${base}.`}
        AND length(${table.slug}) >= ${suffixStart} AND substr(${table.slug}, ${suffixStart}) NOT GLOB '*[^0-9]*'
    ) END)`;
}

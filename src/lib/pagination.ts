/**
 * The one pagination of every list (products, categories, orders), as DRF's PageNumberPagination answers it, so
 * clients of the original keep working: `?page=N` or `?page=last`; a page that is not a positive integer, or past
 * the end, is 404 `{"detail": "Invalid page."}`. `?page_size=` (ours) is an integer 1..100, as the OpenAPI document
 * says; anything else is 400 naming `page_size` (it used to be clamped, which a validating client could not know).
 */
import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { detail } from "./errors";
import { boundedIntQuery, lastValue } from "./query";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** Query fields every paginated list accepts. Read as text here; `paginate` decides what a value means. */
export const paginationQuery = {
  page: z
    .preprocess(lastValue, z.string().optional())
    .openapi({ type: "string", example: "2", description: 'A page number from 1, or `last`; any other value, or a page past the end, is 404 "Invalid page."' }),
  page_size: boundedIntQuery({
    minimum: 1,
    maximum: MAX_PAGE_SIZE,
    default: DEFAULT_PAGE_SIZE,
    example: DEFAULT_PAGE_SIZE,
    description: `Items per page, 1 to ${MAX_PAGE_SIZE} (an empty value means ${DEFAULT_PAGE_SIZE}); anything else is 400 naming \`page_size\``,
  }),
};

export interface PageQuery {
  page?: string;
  page_size?: number;
}

/** The rows a list query is asked for. */
export interface PageRequest {
  limit: number;
  offset: number;
}

export interface Page<T> {
  count: number;
  results: T[];
}

const invalidPage = () => detail(404, "Invalid page.");

/** The requested page number, `"last"`, or a 404. An empty `page=` is page 1, as in DRF. */
function pageNumberOf(value: string | undefined): number | "last" {
  const text = value?.trim() ?? "";
  if (text === "") return 1;
  if (text === "last") return "last";
  const page = /^\d+$/.test(text) ? Number(text) : 0;
  if (page < 1 || !Number.isSafeInteger(page)) throw invalidPage();
  return page;
}

/**
 * Loads the requested page through `load` (which returns one window of rows and the total count) and builds the
 * contract's `{count, next, previous, results}`. `page=last` needs the count first, so it loads twice when the list
 * has more than one page; every other request is one call.
 */
export async function paginate<T>(c: Context, query: PageQuery, load: (request: PageRequest) => Promise<Page<T>>) {
  const pageSize = query.page_size ?? DEFAULT_PAGE_SIZE;
  const requested = pageNumberOf(query.page);
  const window = (page: number): PageRequest => ({ limit: pageSize, offset: (page - 1) * pageSize });
  const lastPageOf = (count: number) => Math.max(1, Math.ceil(count / pageSize));
  let page = requested === "last" ? 1 : requested;
  let { count, results } = await load(window(page));
  if (requested === "last" && lastPageOf(count) > 1) {
    page = lastPageOf(count);
    ({ count, results } = await load(window(page)));
  }
  const lastPage = lastPageOf(count);
  if (page > lastPage) throw invalidPage();
  const linkSize = query.page_size === undefined ? undefined : pageSize;
  return {
    count,
    next: page < lastPage ? pageLink(c, page + 1, linkSize) : null,
    previous: page > 1 ? pageLink(c, page - 1, linkSize) : null,
    results,
  };
}

/**
 * An absolute URL of another page of the same list, as DRF builds it: the query re-encoded in sorted order, `page`
 * dropped for page 1, a `page_size` the client sent kept.
 */
function pageLink(c: Context, page: number, pageSize: number | undefined): string {
  const url = new URL(c.req.url);
  const params = [...url.searchParams.entries()].filter(([k]) => k !== "page" && k !== "page_size");
  if (page > 1) params.push(["page", String(page)]);
  if (pageSize !== undefined) params.push(["page_size", String(pageSize)]);
  params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  url.search = new URLSearchParams(params).toString();
  return url.toString();
}

/** Response schema of a paginated list: the contract's `{count, next, previous, results}`. */
export const paginated = <T extends z.ZodType>(item: T) =>
  z.object({
    count: z.number().int(),
    next: z.string().nullable().openapi({ example: "https://shop.example/api/products/?page=2" }),
    previous: z.string().nullable(),
    results: z.array(item),
  });

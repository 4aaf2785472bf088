import { z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { detail } from "./errors";

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

/** Query fields every paginated list accepts. */
export const paginationQuery = {
  page: z.coerce.number().int().min(1).optional().openapi({ example: 1 }),
  page_size: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).optional().openapi({ example: DEFAULT_PAGE_SIZE }),
};

export interface PageRequest {
  page: number;
  pageSize: number;
  limit: number;
  offset: number;
}

export function pageRequest(query: { page?: number; page_size?: number }): PageRequest {
  const page = query.page ?? 1;
  const pageSize = query.page_size ?? DEFAULT_PAGE_SIZE;
  return { page, pageSize, limit: pageSize, offset: (page - 1) * pageSize };
}

/** Response schema of a paginated list: the contract's `{count, next, previous, results}`. */
export const paginated = <T extends z.ZodType>(item: T) =>
  z.object({
    count: z.number().int(),
    next: z.string().nullable().openapi({ example: "https://shop.example/api/products/?page=2" }),
    previous: z.string().nullable(),
    results: z.array(item),
  });

/**
 * Builds the page envelope. `next`/`previous` are absolute URLs with the query re-encoded in sorted order and
 * `page` dropped for page 1, as DRF does. A page past the end (other than an empty first page) is 404.
 */
export function pageResponse<T>(c: Context, req: PageRequest, count: number, results: T[]) {
  const lastPage = Math.max(1, Math.ceil(count / req.pageSize));
  if (req.page > lastPage) throw detail(404, "Invalid page.");
  const link = (page: number) => {
    const url = new URL(c.req.url);
    const params = [...url.searchParams.entries()].filter(([k]) => k !== "page");
    if (page > 1) params.push(["page", String(page)]);
    params.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    url.search = new URLSearchParams(params).toString();
    return url.toString();
  };
  return {
    count,
    next: req.page < lastPage ? link(req.page + 1) : null,
    previous: req.page > 1 ? link(req.page - 1) : null,
    results,
  };
}

import { z } from "@hono/zod-openapi";
import { readOnly } from "../../lib/openapi";

export interface CategoryOut {
  id: number;
  name: string;
  slug: string;
  description: string | null;
  parent: number | null;
  children: CategoryOut[];
  created_at: string;
  updated_at: string;
}

export const CategorySchema = z
  .object({
    id: readOnly(z.number().int()),
    name: z.string().openapi({ example: "Electronics" }),
    slug: readOnly(z.string().openapi({ example: "electronics" })),
    description: z.string().nullable(),
    parent: z.number().int().nullable().openapi({ example: null }),
    get children() {
      return z.array(CategorySchema).openapi({ readOnly: true });
    },
    created_at: readOnly(z.string().openapi({ example: "2026-11-24T17:07:28.418Z" })),
    updated_at: readOnly(z.string().openapi({ example: "2026-11-24T17:07:28.418Z" })),
  })
  .openapi("Category");

export const SlugParam = z.object({
  slug: z
    .string()
    .min(1)
    .max(255)
    .openapi({ param: { name: "slug", in: "path" }, example: "electronics" }),
});

const categoryFields = {
  name: z.string().trim().min(1).max(100).openapi({ example: "Electronics" }),
  description: z.string().max(10_000).nullable().optional().openapi({ example: "Phones, laptops and accessories" }),
  parent: z.number().int().positive().nullable().optional().openapi({ description: "Parent category id, or null for a root", example: null }),
};

export const CategoryCreateBody = z.object(categoryFields).openapi("CategoryCreate");
/** PUT needs `name`; other fields left out stay as they are (DRF's non-partial update of optional fields). */
export const CategoryPutBody = CategoryCreateBody.openapi("CategoryPut");
export const CategoryPatchBody = z.object(categoryFields).partial().openapi("CategoryPatch");

export type CategoryInput = z.infer<typeof CategoryPatchBody>;

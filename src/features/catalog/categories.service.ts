/**
 * Categories: a tree by `parent`. Invariants:
 * - slugs are unique and generated from the name at creation; renaming keeps the slug;
 * - a category never becomes its own ancestor: the check and the write are one UPDATE statement, so two
 *   concurrent moves cannot build a cycle between them;
 * - deleting a category deletes its subtree (ON DELETE CASCADE) unless any of it still has products
 *   (ON DELETE RESTRICT), in which case nothing is deleted.
 */
import { and, asc, eq, ne, sql, type SQL } from "drizzle-orm";
import type { Database } from "../../db/client";
import { categories, type Category } from "../../db/schema";
import { errorMessage, fieldError, isForeignKeyViolation, isUniqueViolation, notFound } from "../../lib/errors";
import { assertNoFieldErrors, type FieldErrors } from "../../lib/openapi";
import { nowIso } from "../../lib/time";
import type { CategoryInput, CategoryOut } from "./categories.schemas";
import { slugify, uniqueSlugSql } from "./slug";

/** Ids of the category matched by `root` and all its descendants (UNION, not UNION ALL, so it ends on any cycle). */
const subtreeIds = (root: SQL) => sql`(
  WITH RECURSIVE subtree(id) AS (
    SELECT ${categories.id} FROM ${categories} WHERE ${root}
    UNION SELECT c.id FROM ${categories} c JOIN subtree s ON c.parent_id = s.id
  ) SELECT id FROM subtree)`;

/** Renders categories with their nested children; `rows` must hold every descendant of the ones rendered. */
export function categoryTree(rows: readonly Category[]) {
  const byParent = new Map<number | null, Category[]>();
  for (const row of rows) byParent.set(row.parentId, [...(byParent.get(row.parentId) ?? []), row]);
  const render = (row: Category, path: ReadonlySet<number>): CategoryOut => {
    const inPath = new Set(path).add(row.id);
    return {
      id: row.id,
      name: row.name,
      slug: row.slug,
      description: row.description,
      parent: row.parentId,
      children: (byParent.get(row.id) ?? []).filter((child) => !inPath.has(child.id)).map((child) => render(child, inPath)),
      created_at: row.createdAt,
      updated_at: row.updatedAt,
    };
  };
  return { roots: byParent.get(null) ?? [], render: (row: Category) => render(row, new Set()) };
}

/**
 * Every category, ordered by id, in one query. The catalogue's category table is small (hundreds of rows) and
 * every list needs whole subtrees anyway, so the tree is built in memory rather than by one query per level.
 */
export async function allCategories(db: Database): Promise<Category[]> {
  return db.select().from(categories).orderBy(asc(categories.id));
}

/** The rows of the category matched by `where` and all its descendants (one recursive query, batchable). */
export const categorySubtreeQuery = (db: Database, where: SQL) =>
  db
    .select()
    .from(categories)
    .where(sql`${categories.id} IN ${subtreeIds(where)}`)
    .orderBy(asc(categories.id));

/** Renders the category of `rows` for which `isRoot` holds, with its nested children, or 404. */
export function renderSubtree(rows: readonly Category[], isRoot: (row: Category) => boolean): CategoryOut {
  const root = rows.find(isRoot);
  if (!root) throw notFound();
  return categoryTree(rows).render(root);
}

/** One category with its nested children, selected by `where` (one recursive query), or 404. */
async function categoryWithChildren(db: Database, where: SQL, isRoot: (row: Category) => boolean): Promise<CategoryOut> {
  return renderSubtree(await categorySubtreeQuery(db, where), isRoot);
}

export const categoryBySlug = (db: Database, slug: string) =>
  categoryWithChildren(db, sql`${categories.slug} = ${slug}`, (row) => row.slug === slug);

export const categoryById = (db: Database, id: number) =>
  categoryWithChildren(db, sql`${categories.id} = ${id}`, (row) => row.id === id);

const nameTaken = "category with this name already exists.";
const unknownParent = (parent: unknown) => `Invalid pk "${parent}" - object does not exist.`;

/**
 * The field checks of a category write that need D1, for the fields given: a name another category has
 * (case-insensitively; `slug` is the category being edited) and a parent that does not exist. They run beside the
 * schema's own checks (see `withFieldChecks`), so one 400 names every failing field, as DRF's does.
 */
export async function categoryFieldErrors(db: Database, fields: CategoryInput, slug?: string): Promise<FieldErrors> {
  const { name, parent } = fields;
  const [sameName, parentRow] = await Promise.all([
    name === undefined
      ? []
      : db
          .select({ id: categories.id })
          .from(categories)
          .where(and(sql`lower(${categories.name}) = lower(${name})`, slug === undefined ? undefined : ne(categories.slug, slug)))
          .limit(1),
    parent == null ? [{ id: parent }] : db.select({ id: categories.id }).from(categories).where(eq(categories.id, parent)),
  ]);
  const errors: FieldErrors = {};
  if (sameName.length) errors.name = [nameTaken];
  if (!parentRow.length) errors.parent = [unknownParent(parent)];
  return errors;
}

/** Maps constraint violations of a category write (a race past `categoryFieldErrors`) to DRF's field errors. */
function categoryConflict(err: unknown, parent: number | null | undefined): never {
  if (isUniqueViolation(err, "categories_name_lower_unique")) throw fieldError("name", nameTaken);
  if (isForeignKeyViolation(err)) throw fieldError("parent", unknownParent(parent));
  throw err;
}

export async function createCategory(db: Database, input: CategoryInput & { name: string }): Promise<CategoryOut> {
  assertNoFieldErrors(await categoryFieldErrors(db, input));
  try {
    const [row] = await db
      .insert(categories)
      .values({
        name: input.name,
        slug: uniqueSlugSql(categories, slugify(input.name, "category")),
        description: input.description ?? null,
        parentId: input.parent ?? null,
      })
      .returning();
    return categoryTree([row]).render(row);
  } catch (err) {
    categoryConflict(err, input.parent);
  }
}

export async function updateCategory(db: Database, slug: string, input: CategoryInput): Promise<CategoryOut> {
  assertNoFieldErrors(await categoryFieldErrors(db, input, slug));
  const target = sql`${categories.slug} = ${slug}`;
  // The new parent may not be the category itself or one of its descendants; checked in the UPDATE itself.
  const noCycle = input.parent ? sql`${input.parent} NOT IN ${subtreeIds(target)}` : sql`1`;
  let updated: { id: number }[];
  try {
    updated = await db
      .update(categories)
      .set({ name: input.name, description: input.description, parentId: input.parent, updatedAt: nowIso() })
      .where(sql`${target} AND ${noCycle}`)
      .returning({ id: categories.id });
  } catch (err) {
    categoryConflict(err, input.parent);
  }
  if (updated.length === 0) {
    const [exists] = await db.select({ id: categories.id }).from(categories).where(eq(categories.slug, slug));
    if (!exists) throw notFound();
    throw fieldError("parent", "A category cannot be its own parent or a descendant of itself.");
  }
  return categoryById(db, updated[0].id);
}

export async function deleteCategory(db: Database, slug: string): Promise<void> {
  let deleted: { id: number }[];
  try {
    deleted = await db.delete(categories).where(eq(categories.slug, slug)).returning({ id: categories.id });
  } catch (err) {
    if (!isForeignKeyViolation(err)) throw err;
    throw errorMessage(400, "Cannot delete a category that still has products (in it or in a subcategory). Move or delete them first.");
  }
  if (deleted.length === 0) throw notFound();
}

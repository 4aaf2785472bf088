/** The user's own addresses. Every query is scoped by user id, so another user's address is simply not found. */
import { and, desc, eq, ne, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { addresses, type Address } from "../../db/schema";
import { fieldError, isNotNullViolation, notFound } from "../../lib/errors";

/**
 * Saved addresses per user. The list is one unpaginated array (as in the original), so without a cap one account
 * could grow it, and every read of it, without bound.
 */
export const MAX_ADDRESSES = 50;

export type AddressInput = Partial<{
  address_type: "shipping" | "billing";
  street_address: string;
  city: string;
  state: string;
  postal_code: string;
  country: string;
  phone: string | null;
  is_default: boolean;
}>;

export const toAddressOut = (a: Address) => ({
  id: a.id,
  address_type: a.addressType,
  street_address: a.streetAddress,
  city: a.city,
  state: a.state,
  postal_code: a.postalCode,
  country: a.country,
  phone: a.phone,
  is_default: a.isDefault,
  created_at: a.createdAt,
});

/** The text an order stores for an address, as the original formats it. */
export const formatAddress = (a: Address) => [a.streetAddress, a.city, a.state, a.postalCode, a.country].join(", ");

const columns = (input: AddressInput) => ({
  addressType: input.address_type,
  streetAddress: input.street_address,
  city: input.city,
  state: input.state,
  postalCode: input.postal_code,
  country: input.country,
  phone: input.phone === undefined ? undefined : input.phone || null,
  isDefault: input.is_default,
});

export async function listAddresses(db: Database, userId: number) {
  return db.select().from(addresses).where(eq(addresses.userId, userId)).orderBy(desc(addresses.isDefault), addresses.id);
}

export async function getAddress(db: Database, userId: number, id: number): Promise<Address> {
  const [row] = await db.select().from(addresses).where(and(eq(addresses.id, id), eq(addresses.userId, userId)));
  if (!row) throw notFound();
  return row;
}

/** Only one default address per user: making one default clears the flag on the others in the same batch. */
function clearOtherDefaults(db: Database, userId: number, keepId: number) {
  return db
    .update(addresses)
    .set({ isDefault: false })
    .where(and(eq(addresses.userId, userId), ne(addresses.id, keepId), eq(addresses.isDefault, true)));
}

export async function createAddress(db: Database, userId: number, input: AddressInput & { street_address: string }) {
  // The cap is checked inside the INSERT: the owner is NULL (and the NOT NULL column refuses the row) once the user
  // has MAX_ADDRESSES, so concurrent creates cannot pass it together.
  const ownerUnderCap = sql<number>`(select ${userId} where (select count(*) from ${addresses} where ${addresses.userId} = ${userId}) < ${MAX_ADDRESSES})`;
  let row: Address;
  try {
    [row] = await db
      .insert(addresses)
      .values({ ...columns(input), userId: ownerUnderCap, streetAddress: input.street_address, city: input.city!, state: input.state!, postalCode: input.postal_code! })
      .returning();
  } catch (err) {
    if (isNotNullViolation(err, "addresses.user_id")) throw fieldError("non_field_errors", `You can save at most ${MAX_ADDRESSES} addresses. Delete one first.`);
    throw err;
  }
  if (row.isDefault) await clearOtherDefaults(db, userId, row.id);
  return row;
}

export async function updateAddress(db: Database, userId: number, id: number, input: AddressInput) {
  await getAddress(db, userId, id);
  const update = db.update(addresses).set(columns(input)).where(and(eq(addresses.id, id), eq(addresses.userId, userId)));
  if (input.is_default) await db.batch([update, clearOtherDefaults(db, userId, id)]);
  else if (Object.values(columns(input)).some((v) => v !== undefined)) await update;
  return getAddress(db, userId, id);
}

export async function deleteAddress(db: Database, userId: number, id: number) {
  const deleted = await db
    .delete(addresses)
    .where(and(eq(addresses.id, id), eq(addresses.userId, userId)))
    .returning({ id: addresses.id });
  if (!deleted.length) throw notFound();
}

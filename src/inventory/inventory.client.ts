/** The typed calls the Worker makes on the per-product inventory objects. */
import { objectLocation } from "../placement/location";
import type { StockSnapshot, StockWriteResult } from "./inventory.do";

export const inventoryOf = (env: Env, productId: number) => env.INVENTORY.getByName(String(productId), objectLocation(env));

/** Exact available stock of one product, from its object (never the D1 projection). */
export async function availableStock(env: Env, productId: number): Promise<number> {
  return (await inventoryOf(env, productId).getStock(productId)).available;
}

/** Exact available stock of several products, asked in parallel. */
export async function availableStocks(env: Env, productIds: readonly number[]): Promise<Map<number, number>> {
  const unique = [...new Set(productIds)];
  const snapshots = await Promise.all(unique.map((id) => inventoryOf(env, id).getStock(id)));
  return new Map(snapshots.map((s: StockSnapshot, i) => [unique[i], s.available]));
}

/** Admin stock change: goes through the object, which then updates the D1 projection. */
export async function setStock(env: Env, productId: number, available: number): Promise<StockWriteResult> {
  return inventoryOf(env, productId).setStock(productId, available);
}

/** Admin stock change only if the object still holds `expected` available units (what the admin's form showed). */
export async function setStockIf(env: Env, productId: number, expected: number, available: number): Promise<StockWriteResult> {
  return inventoryOf(env, productId).setStockIf(productId, expected, available);
}

/** Relative admin stock change, decided in the object; refused (ok false) if it would go below zero. */
export async function adjustStock(env: Env, productId: number, delta: number): Promise<StockWriteResult> {
  return inventoryOf(env, productId).adjustStock(productId, delta);
}

import type { Context } from "hono";
import type { AppEnv } from "../../env";

/** Merges the caller's anonymous cart (cookie or X-Cart-Id) into the user's cart. Filled in by the carts feature. */
export async function mergeGuestCart(_c: Context<AppEnv>, _userId: number): Promise<void> {}

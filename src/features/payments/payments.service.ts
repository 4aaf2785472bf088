import type { Database } from "../../db/client";

/**
 * Refunds the order's captured payment through Razorpay and marks it `refunded`, if it was paid. Called by the
 * orders feature when a paid order is cancelled. Safe to call twice. Filled in by the payments feature.
 */
export async function refundOrderPayment(_env: Env, _db: Database, _orderId: number): Promise<void> {}

/**
 * The order list as CSV, streamed: each chunk is one keyset-paged query (created_at, id below the last row sent), read
 * when the client is ready for more, so an export of any size holds one chunk in memory and never walks past rows
 * it has already sent (no OFFSET). Cells that a spreadsheet would run as a formula are prefixed with `'` (OWASP's
 * CSV-injection advice): usernames and addresses are customer input.
 */
import { and, desc, eq, lt, or, sql } from "drizzle-orm";
import type { Database } from "../../db/client";
import { orders, users } from "../../db/schema";
import { formatMoney } from "../../lib/money";
import { orderFilterWhere, type OrderFilters } from "./orders.filters";

export const ORDER_CSV_COLUMNS = [
  "order_number",
  "created_at",
  "status",
  "payment_status",
  "total_amount",
  "items_count",
  "customer_username",
  "customer_email",
  "shipping_address",
] as const;

const CHUNK = 500;

function cell(value: string | number): string {
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const line = (cells: Array<string | number>) => `${cells.map(cell).join(",")}\r\n`;

export function ordersCsv(db: Database, filters: OrderFilters): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let after: { createdAt: string; id: number } | null = null;
  let done = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(line([...ORDER_CSV_COLUMNS])));
    },
    async pull(controller) {
      if (done) return;
      const rows = await db
        .select({
          id: orders.id,
          orderNumber: orders.orderNumber,
          createdAt: orders.createdAt,
          status: orders.status,
          paymentStatus: orders.paymentStatus,
          totalPaise: orders.totalPaise,
          itemsCount: sql<number>`(select count(*) from "order_items" where "order_items"."order_id" = "orders"."id")`,
          username: users.username,
          email: users.email,
          shippingAddress: orders.shippingAddress,
        })
        .from(orders)
        .innerJoin(users, eq(users.id, orders.userId))
        .where(
          and(
            orderFilterWhere(filters, null),
            after
              ? or(lt(orders.createdAt, after.createdAt), and(eq(orders.createdAt, after.createdAt), lt(orders.id, after.id)))
              : undefined,
          ),
        )
        .orderBy(desc(orders.createdAt), desc(orders.id))
        .limit(CHUNK);
      const text = rows
        .map((r) => line([r.orderNumber, r.createdAt, r.status, r.paymentStatus, formatMoney(r.totalPaise), Number(r.itemsCount), r.username, r.email, r.shippingAddress]))
        .join("");
      if (text) controller.enqueue(encoder.encode(text));
      if (rows.length < CHUNK) {
        done = true;
        controller.close();
      } else {
        const last = rows[rows.length - 1];
        after = { createdAt: last.createdAt, id: last.id };
      }
    },
  });
}

/**
 * The emails customers get: order placed, payment received, shipped, cancelled, refunded, and the password reset
 * link. Text and HTML from the same facts; everything a customer (or an admin typing a product name) controls is
 * HTML-escaped, and the shop's name comes from configuration (SHOP_NAME).
 */

export interface Email {
  subject: string;
  text: string;
  html: string;
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
export const escapeHtml = (value: unknown) => String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c]);

export interface OrderFacts {
  order_number: string;
  total_amount: string;
  shipping_address: string;
  items: { product_name: string; quantity: number; subtotal: string }[];
}

export type OrderEmailKind = "created" | "paid" | "shipped" | "cancelled" | "refunded";

const HEADLINES: Record<OrderEmailKind, (n: string) => [subject: string, line: string]> = {
  created: (n) => [`Order ${n} received`, "Thank you for your order. We have received it and will let you know when your payment arrives."],
  paid: (n) => [`Payment received for order ${n}`, "We have received your payment. Your order is being prepared."],
  shipped: (n) => [`Order ${n} has shipped`, "Your order is on its way."],
  cancelled: (n) => [`Order ${n} was cancelled`, "Your order was cancelled. If you were charged, the money is refunded."],
  refunded: (n) => [`Refund issued for order ${n}`, "We have refunded your payment. It may take a few days to show on your statement."],
};

function layout(shop: string, bodyHtml: string): string {
  return `<!doctype html><html><body style="font-family:sans-serif;color:#222"><h2>${escapeHtml(shop)}</h2>${bodyHtml}</body></html>`;
}

export function orderEmail(shopName: string, kind: OrderEmailKind, customerName: string, order: OrderFacts): Email {
  const [headline, line] = HEADLINES[kind](order.order_number);
  const greeting = customerName ? `Hello ${customerName},` : "Hello,";
  const items = order.items.map((i) => `${i.quantity} x ${i.product_name}: ${i.subtotal}`);
  const text = [greeting, "", line, "", `Order ${order.order_number}`, ...items, `Total: ${order.total_amount}`, `Ship to: ${order.shipping_address}`, "", shopName].join("\n");
  const html = layout(
    shopName,
    `<p>${escapeHtml(greeting)}</p><p>${escapeHtml(line)}</p>` +
      `<p><strong>Order ${escapeHtml(order.order_number)}</strong></p><ul>` +
      order.items.map((i) => `<li>${escapeHtml(i.quantity)} &times; ${escapeHtml(i.product_name)}: ${escapeHtml(i.subtotal)}</li>`).join("") +
      `</ul><p>Total: ${escapeHtml(order.total_amount)}</p><p>Ship to: ${escapeHtml(order.shipping_address)}</p>`,
  );
  return { subject: `${shopName}: ${headline}`, text, html };
}

export function passwordResetEmail(shopName: string, customerName: string, link: string, ttlMinutes: number): Email {
  const greeting = customerName ? `Hello ${customerName},` : "Hello,";
  const line = `Someone asked to reset the password of your account. The link works once, for ${ttlMinutes} minutes. If it was not you, ignore this email: your password stays as it is.`;
  const text = [greeting, "", line, "", link, "", shopName].join("\n");
  const html = layout(shopName, `<p>${escapeHtml(greeting)}</p><p>${escapeHtml(line)}</p><p><a href="${escapeHtml(link)}">Choose a new password</a></p>`);
  return { subject: `${shopName}: reset your password`, text, html };
}

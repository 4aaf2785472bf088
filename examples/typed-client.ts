// A typed client for a TypeScript frontend: hono/client's hc<App> takes every route, its input and its JSON output
// from the API's own types, so a renamed field or a wrong body is a compile error in the frontend.
// `npm run typecheck` compiles this file and test/typed-client.test.ts runs it against the Worker.
import { hc } from "hono/client";
import type { App } from "../src/app";

/**
 * Every path of this API ends with a slash (`/api/auth/login/`), which hc writes as `.index` and then sends without
 * the slash (`/api/auth/login`), a 404 here. Putting the slash back in the client keeps the API's paths as they are.
 */
function keepTrailingSlash(fetchImpl: typeof fetch): typeof fetch {
  return (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    if (url.pathname.startsWith("/api/") && !url.pathname.endsWith("/")) url.pathname += "/";
    return fetchImpl(url, init);
  };
}

export function shopClient(baseUrl: string, fetchImpl: typeof fetch = fetch) {
  return hc<App>(baseUrl, { fetch: keepTrailingSlash(fetchImpl) });
}

/** Log in, put a product in the cart and check out: the whole purchase, with every body and answer typed. */
export async function buyOne(client: ReturnType<typeof shopClient>, username: string, password: string, productId: number) {
  const login = await client.api.auth.login.index.$post({ json: { username, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status}`);
  const { access } = await login.json();
  const auth = { headers: { Authorization: `Bearer ${access}` } };

  // header and cookie carry the anonymous cart's id; a logged-in user's cart comes from the token.
  const cart = await client.api.cart.add.index.$post({ json: { product_id: productId, quantity: 1 }, header: {}, cookie: {} }, auth);
  if (cart.status !== 200) throw new Error(`add to cart failed: ${cart.status}`);

  const order = await client.api.orders.create_order.index.$post(
    { json: { shipping_address: "12 MG Road, Bengaluru 560001, India" }, header: { "idempotency-key": crypto.randomUUID() } },
    auth,
  );
  if (order.status !== 201) throw new Error(`checkout failed: ${order.status}`);
  const created = await order.json();
  return { orderNumber: created.order_number, total: created.total_amount, status: created.status };
}

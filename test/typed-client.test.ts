import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { buyOne, shopClient } from "../examples/typed-client";
import { insertProduct } from "./fixtures";
import { registerUser } from "./helpers";

describe("the typed client example (README)", () => {
  it("buys a product through hc<App> with the API's trailing-slash paths", async () => {
    const user = await registerUser("typed");
    const productId = await insertProduct({ pricePaise: 49_900, stock: 3 });
    const client = shopClient("https://shop.test", (input, init) => SELF.fetch(input, init));

    const order = await buyOne(client, user.username, user.password, productId);

    expect(order).toMatchObject({ total: "499.00", status: "pending" });
    expect(order.orderNumber).toMatch(/^ORD-/);
  });
});

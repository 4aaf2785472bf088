/**
 * A stand-in for Razorpay's REST API during test:contract (the Worker's RAZORPAY_API_BASE points here), so payment
 * routes answer as they would with keys set, without the network. It creates orders and knows no payments.
 */
import { createServer } from "node:http";

export function startRazorpayStub() {
  let orders = 0;
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const send = (status, value) => {
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(JSON.stringify(value));
      };
      if (req.method === "POST" && req.url === "/v1/orders") {
        const input = JSON.parse(body || "{}");
        orders += 1;
        return send(200, { id: `order_stub${String(orders).padStart(8, "0")}`, entity: "order", amount: input.amount, currency: input.currency, receipt: input.receipt, status: "created" });
      }
      send(400, { error: { code: "BAD_REQUEST_ERROR", description: "The id provided does not exist" } });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => resolve({ url: `http://127.0.0.1:${server.address().port}`, stop: () => server.close() }));
  });
}

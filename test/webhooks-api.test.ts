/** The admin webhook endpoint API: create, list, read, change, delete, rotate, deliveries; its URL rules and guards. */
import { beforeAll, describe, expect, it } from "vitest";
import { api, createAdmin, registerUser, type TestUser } from "./helpers";

let admin: TestUser;
let alice: TestUser;

beforeAll(async () => {
  admin = await createAdmin();
  alice = await registerUser("alice");
});

const create = (body: Record<string, unknown>, token = admin.access) => api("POST", "/api/webhooks/", { token, body });
const valid = { url: "https://hooks.example.com/shop", events: ["order.created", "order.paid"], description: "Warehouse" };

describe("webhook endpoints", () => {
  it("creates an endpoint and shows its Standard Webhooks secret once, never in a GET", async () => {
    const res = await create(valid);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ url: valid.url, events: valid.events, description: "Warehouse", is_active: true });
    expect(res.body.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(atob(res.body.secret.slice(6)).length).toBeGreaterThanOrEqual(24);

    const one = await api("GET", `/api/webhooks/${res.body.id}/`, { token: admin.access });
    const list = await api("GET", "/api/webhooks/", { token: admin.access });
    const patched = await api("PATCH", `/api/webhooks/${res.body.id}/`, { token: admin.access, body: { description: "x" } });
    for (const seen of [one, list, patched]) {
      expect(seen.status).toBe(200);
      expect(JSON.stringify(seen.body)).not.toContain(res.body.secret);
      expect(JSON.stringify(seen.body)).not.toContain('"secret"');
    }
    expect(list.body.results.map((e: { id: number }) => e.id)).toContain(res.body.id);
  });

  it("rotates the secret: a new one, shown once", async () => {
    const created = (await create(valid)).body;
    const rotated = await api("POST", `/api/webhooks/${created.id}/rotate_secret/`, { token: admin.access });
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(created.secret);
    expect(JSON.stringify((await api("GET", `/api/webhooks/${created.id}/`, { token: admin.access })).body)).not.toContain(rotated.body.secret);
  });

  it("changes, turns off and deletes an endpoint", async () => {
    const created = (await create(valid)).body;
    const patched = await api("PATCH", `/api/webhooks/${created.id}/`, {
      token: admin.access,
      body: { events: ["order.refunded"], is_active: false, url: "https://other.example.com/h" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ events: ["order.refunded"], is_active: false, url: "https://other.example.com/h" });
    expect((await api("DELETE", `/api/webhooks/${created.id}/`, { token: admin.access })).status).toBe(204);
    expect((await api("GET", `/api/webhooks/${created.id}/`, { token: admin.access })).status).toBe(404);
    expect((await api("DELETE", `/api/webhooks/${created.id}/`, { token: admin.access })).status).toBe(404);
  });

  it("lists an endpoint's deliveries (none yet) and 404s for an unknown endpoint", async () => {
    const created = (await create(valid)).body;
    const res = await api("GET", `/api/webhooks/${created.id}/deliveries/`, { token: admin.access });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ count: 0, next: null, previous: null, results: [] });
    expect((await api("GET", "/api/webhooks/999999/deliveries/", { token: admin.access })).status).toBe(404);
    expect((await api("POST", `/api/webhooks/${created.id}/deliveries/999999/redeliver/`, { token: admin.access })).status).toBe(404);
  });

  it("refuses an unknown event type, and an empty list, naming events", async () => {
    const unknown = await create({ ...valid, events: ["order.created", "order.exploded"] });
    expect(unknown.status).toBe(400);
    expect(Object.keys(unknown.body).join()).toMatch(/^events/);
    expect(JSON.stringify(unknown.body)).toContain("order.exploded");
    const empty = await create({ ...valid, events: [] });
    expect(empty.status).toBe(400);
    expect(empty.body.events).toBeDefined();
  });

  it.each([
    ["http://hooks.example.com/x", "https://"],
    ["https://user:pass@hooks.example.com/x", "credentials"],
    ["https://127.0.0.1/x", "loopback"],
    ["https://localhost:8080/x", "loopback"],
    ["https://[::1]/x", "loopback"],
    ["https://10.0.0.8/x", "private"],
    ["https://192.168.1.1/x", "private"],
    ["https://172.16.4.4/x", "private"],
    ["https://169.254.169.254/latest/meta-data", "private"],
    ["https://[fd00::1]/x", "private"],
    ["https://[::ffff:10.0.0.1]/x", "private"],
    ["https://2130706433/x", "loopback"],
    ["not a url", "valid URL"],
    [`https://hooks.example.com/${"a".repeat(2048)}`, "2048"],
  ])("refuses the URL %s with a 400 naming url", async (url, reason) => {
    const res = await create({ ...valid, url });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body)).toEqual(["url"]);
    expect(res.body.url[0]).toContain(reason);
    const existing = (await create(valid)).body;
    const patched = await api("PATCH", `/api/webhooks/${existing.id}/`, { token: admin.access, body: { url } });
    expect(patched.status).toBe(400);
    expect(Object.keys(patched.body)).toEqual(["url"]);
  });

  it("refuses a plain user with 403 and an anonymous caller with 401 on every webhook route", async () => {
    const created = (await create(valid)).body;
    const routes: [string, string, unknown?][] = [
      ["POST", "/api/webhooks/", valid],
      ["GET", "/api/webhooks/"],
      ["GET", `/api/webhooks/${created.id}/`],
      ["PATCH", `/api/webhooks/${created.id}/`, { description: "mine now" }],
      ["DELETE", `/api/webhooks/${created.id}/`],
      ["POST", `/api/webhooks/${created.id}/rotate_secret/`],
      ["GET", `/api/webhooks/${created.id}/deliveries/`],
      ["POST", `/api/webhooks/${created.id}/deliveries/1/redeliver/`],
    ];
    for (const [method, path, body] of routes) {
      const user = await api(method, path, { token: alice.access, body });
      expect(user.status, `${method} ${path}`).toBe(403);
      expect(JSON.stringify(user.body)).not.toContain("whsec_");
      expect((await api(method, path, { body })).status, `${method} ${path}`).toBe(401);
    }
    expect((await api("GET", `/api/webhooks/${created.id}/`, { token: admin.access })).body.description).toBe("Warehouse");
  });
});

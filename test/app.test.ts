import { describe, expect, it } from "vitest";
import { createApp } from "../src/app";
import { api } from "./helpers";

describe("the API shell", () => {
  it("answers /health", async () => {
    const res = await api("GET", "/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: "ok" });
    expect(res.headers.get("X-Request-Id")).toBeTruthy();
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
  });

  it("answers unknown routes and unknown methods with JSON 404", async () => {
    for (const [method, path] of [["GET", "/nope"], ["GET", "/api/products"], ["DELETE", "/health"], ["POST", "/api/unknown/"]]) {
      const res = await api(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body).toEqual({ detail: "Not found." });
    }
  });

  it("serves an OpenAPI 3.1 document that lists every route with its responses", async () => {
    const res = await api("GET", "/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    expect(res.body.components.securitySchemes.Bearer).toMatchObject({ type: "http", scheme: "bearer" });
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries<Record<string, any>>(res.body.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        documented.add(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`);
        expect(Object.keys(op.responses).length, `${method} ${path}`).toBeGreaterThan(0);
      }
    }
    const served = createApp()
      .routes.filter((r) => r.method !== "ALL" && !["/openapi.json", "/docs"].includes(r.path))
      .map((r) => `${r.method} ${r.path}`);
    expect(served.length).toBeGreaterThan(10);
    for (const route of served) expect(documented, route).toContain(route);
  });

  it("serves an interactive docs page", async () => {
    const res = await api("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/text\/html/);
    expect(String(res.body)).toContain("/openapi.json");
  });

  it("answers CORS preflights", async () => {
    const res = await api("OPTIONS", "/api/products/", {
      headers: { Origin: "https://shop.example", "Access-Control-Request-Method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });
});

describe("validation errors", () => {
  it("ignores keys that share a name with Object.prototype members instead of failing", async () => {
    for (const key of ["valueOf", "toString", "__proto__", "constructor", "hasOwnProperty"]) {
      const res = await api("POST", "/api/auth/token/refresh/", { raw: `{"${key}": ""}` });
      expect(res.status, key).toBe(400);
      expect(res.body, key).toEqual({ refresh: ["This field is required."] });
    }
  });
});

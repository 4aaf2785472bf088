import { env } from "cloudflare:test";
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

  it("serves the docs page with a CSP that allows only this origin", async () => {
    const res = await api("GET", "/docs");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/text\/html/);
    const csp = res.headers.get("Content-Security-Policy") ?? "";
    const directives = Object.fromEntries(csp.split(";").map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]));
    for (const name of ["default-src", "script-src", "style-src", "img-src", "font-src", "connect-src"]) {
      expect(directives[name], name).toEqual(["'self'"]);
    }
    expect(directives["object-src"]).toEqual(["'none'"]);
    expect(directives["frame-ancestors"]).toEqual(["'none'"]);
    const html = String(res.body);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/); // no inline script: the CSP would block it
    expect(html).not.toMatch(/\sstyle=|<style/);
    expect(html).not.toMatch(/\b(?:https?:)?\/\/[a-z]/i); // every URL is a path on this origin
  });

  it("serves every file the docs page loads from its static assets", async () => {
    const html = String((await api("GET", "/docs")).body);
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(urls).toEqual(expect.arrayContaining(["/docs/vendor/swagger-ui-bundle.js", "/docs/vendor/swagger-ui.css", "/docs/init.js"]));
    for (const url of urls) {
      const res = await env.ASSETS.fetch(`https://shop.test${url}`);
      expect(res.status, `${url}: missing? \`npm test\` copies the docs UI first (scripts/copy-docs-assets.mjs)`).toBe(200);
      expect(res.headers.get("Content-Type"), url).toMatch(/javascript|css|image/);
      await res.arrayBuffer();
    }
    // The stylesheet's icons: files beside it, not data: URLs (img-src 'self' would block those).
    const css = await (await env.ASSETS.fetch("https://shop.test/docs/vendor/swagger-ui.css")).text();
    const images = [...css.matchAll(/url\(([^)]+)\)/g)].map((m) => m[1]);
    expect(images.length).toBeGreaterThan(5);
    for (const image of new Set(images)) {
      expect(image).toMatch(/^img\/\w+\.(svg|png|jpg)$/);
      const res = await env.ASSETS.fetch(`https://shop.test/docs/vendor/${image}`);
      expect(res.status, image).toBe(200);
      await res.arrayBuffer();
    }
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

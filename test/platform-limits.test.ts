/**
 * Limits that production Cloudflare enforces and local workerd may not, and the abuse paths around them (issue 12).
 * Where workerd does not enforce a limit, the test injects production's failure through a wrapped binding
 * (test/platform-fakes.ts) and calls the app with that env.
 */
import { env } from "cloudflare:test";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { api, createAdmin, createCategory, createProduct, PASSWORD, type TestUser, unique } from "./helpers";
import { summarizeError } from "../src/lib/log";
import { d1FailingStatements, envWith } from "./platform-fakes";

afterEach(() => {
  vi.restoreAllMocks();
});

let admin: TestUser;
beforeAll(async () => {
  admin = await createAdmin();
});

describe("D1: slugs never build a LIKE/GLOB pattern over D1's 50-byte limit", () => {
  const names = [
    "Apple iPhone 15 Pro Max 256GB Natural Titanium Edition",
    "x".repeat(200),
    "Ünïcödé Çàfé Crème Brûlée ".repeat(8).slice(0, 200),
    "日本語の商品名".repeat(28).slice(0, 200),
    "🍎".repeat(100),
    "a",
  ];

  it.each(names)("gives every product named %s a unique slug and a 201, however often the name repeats", async (name) => {
    const category = await createCategory(admin.access);
    const slugs: string[] = [];
    for (let i = 0; i < 4; i++) slugs.push((await createProduct(admin.access, { name, category: category.id })).slug);
    expect(new Set(slugs).size).toBe(4);
    // Names with no ASCII letters share the fallback slug `product`, so only the base is predictable.
    const base = slugs[0].replace(/-\d+$/, "");
    for (const slug of slugs) expect(slug).toMatch(new RegExp(`^${base}(-\\d+)?$`));
  });

  it.each(names.map((name) => name.slice(0, 100)))("gives every category named %s a unique slug (names are unique case-insensitively)", async (name) => {
    const variants = [name, `${name.slice(0, 99)}!`, `${name.slice(0, 99)}?`];
    const slugs: string[] = [];
    for (const variant of variants) {
      const res = await api("POST", "/api/categories/", { token: admin.access, body: { name: variant } });
      if (res.status === 400) continue; // the same name twice (a 1-character name): the contract's duplicate-name error
      expect(res.status).toBe(201);
      slugs.push(res.body.slug);
    }
    expect(new Set(slugs).size).toBe(slugs.length);
  });

  it("searches with the longest short terms (escaped, four-byte characters) without a 500", async () => {
    for (const search of ["%%", "__", "\\\\", "𝕏𝕏", "🍎🍏 %_", "ab ".repeat(10)]) {
      const res = await api("GET", `/api/products/?search=${encodeURIComponent(search)}`);
      expect(res.status).toBe(200);
    }
  });
});

describe("D1: logs never carry bound values", () => {
  it("logs a failed register's statement name and message, without the email, the username or the password hash", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const username = unique("leaky");
    const email = `${username}@example.com`;
    const failingUsers = envWith({ DB: d1FailingStatements(env.DB, (sql) => /^insert into "users"/i.test(sql)) });
    const res = await api("POST", "/api/auth/register/", {
      env: failingUsers,
      body: { username, email, password: PASSWORD, password2: PASSWORD, first_name: "Ada", last_name: "Lovelace" },
    });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ detail: "Internal server error.", request_id: expect.any(String) });
    const lines = logged.mock.calls.map((args) => args.map(String).join(" "));
    expect(lines).toHaveLength(1);
    const line = lines[0];
    expect(JSON.parse(line)).toMatchObject({ level: "error", statement: "insert users", error: expect.stringContaining("D1_ERROR: disk I/O error") });
    for (const secret of [email, username, "pbkdf2_sha256", "Lovelace", PASSWORD]) expect(line).not.toContain(secret);
  });
});

describe("error summaries keep what helps debugging", () => {
  it("keeps SQLite's message and names of constraints, drops Drizzle's SQL and values", () => {
    const d1 = new Error("D1_ERROR: UNIQUE constraint failed: index 'users_email_lower_unique': SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_UNIQUE)");
    const drizzle = Object.assign(new Error(`Failed query: update "users" set "email" = ? where "users"."id" = ?\nparams: bob@example.com,7`), {
      query: `update "users" set "email" = ? where "users"."id" = ?`,
      params: ["bob@example.com", 7],
      cause: d1,
    });
    const summary = summarizeError(drizzle);
    expect(summary).toMatchObject({ statement: "update users", error: `Error: ${d1.message}` });
    expect(JSON.stringify(summary)).not.toContain("bob@example.com");
  });
});

/**
 * Issue 28, item 1: `npm run create-admin` never changes another account, and any change of a password or of the staff
 * flag, by the API or outside it (the script, raw SQL), ends the user's sessions in the same write.
 */
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { adminUpsertSql } from "../scripts/lib/admin-sql.mjs";
import { hashPassword } from "../src/features/auth/password";
import { api, createAdmin, login, PASSWORD, registerUser, unique } from "./helpers";

/** Runs the script's statement as `wrangler d1 execute` would; returns the rows it returned (the account's id). */
async function createAdminSql(username: string, email: string, password: string) {
  const { results } = await env.DB.prepare(adminUpsertSql({ username, email, passwordHash: await hashPassword(password) })).all();
  return results;
}

const profileStatus = async (access: string) => (await api("GET", "/api/auth/profile/", { token: access })).status;
const refreshStatus = async (refresh: string) => (await api("POST", "/api/auth/token/refresh/", { body: { refresh } })).status;
const userRow = (id: number) => env.DB.prepare("SELECT username, email, password_hash, is_staff FROM users WHERE id = ?").bind(id).first();

describe("create-admin", () => {
  it("refuses an email that belongs to another account and changes nothing", async () => {
    const victim = await registerUser("victim");
    const before = await userRow(victim.id);
    const wanted = unique("admin");
    expect(await createAdminSql(wanted, victim.email.toUpperCase(), "Attacker-Passw0rd!")).toEqual([]);
    expect(await userRow(victim.id)).toEqual(before);
    // the victim's tokens keep working and act as the customer they are, not as an admin
    expect(await profileStatus(victim.access)).toBe(200);
    expect((await api("GET", "/api/products/analytics/", { token: victim.access })).status).toBe(403);
    expect((await login(wanted, "Attacker-Passw0rd!")).status).toBe(401);
    expect((await login(victim.username)).status).toBe(200);
  });

  it("creates the named account as staff when the email is free", async () => {
    const username = unique("admin");
    const [row] = await createAdminSql(username, `${username}@example.com`, "Admin-Passw0rd!");
    expect(row).toMatchObject({ id: expect.any(Number) });
    const tokens = (await login(username, "Admin-Passw0rd!")).body;
    expect((await api("GET", "/api/products/analytics/", { token: tokens.access })).status).toBe(200);
  });

  it("promotes the named existing user: the old tokens of the promoted account are refused", async () => {
    const user = await registerUser("promoted");
    const phone = (await login(user.username)).body;
    const [row] = await createAdminSql(user.username.toUpperCase(), user.email, "Admin-Passw0rd!");
    expect(row).toEqual({ id: user.id });
    for (const tokens of [user, phone]) {
      expect(await profileStatus(tokens.access)).toBe(401);
      expect((await api("GET", "/api/products/analytics/", { token: tokens.access })).status).toBe(401);
      expect(await refreshStatus(tokens.refresh)).toBe(401);
    }
    expect((await login(user.username, PASSWORD)).status).toBe(401);
    const admin = (await login(user.username, "Admin-Passw0rd!")).body;
    expect((await api("GET", "/api/products/analytics/", { token: admin.access })).status).toBe(200);
  });
});

describe("credentials changed outside the API", () => {
  it("a password set with raw SQL ends every session of that user and no other", async () => {
    const user = await registerUser();
    const bystander = await registerUser();
    await env.DB.prepare("UPDATE users SET password_hash = ? WHERE id = ?").bind(await hashPassword("Other-Passw0rd!"), user.id).run();
    expect(await profileStatus(user.access)).toBe(401);
    expect(await refreshStatus(user.refresh)).toBe(401);
    expect(await profileStatus(bystander.access)).toBe(200);
  });

  it("a staff flag set or cleared with raw SQL ends every session of that user", async () => {
    const user = await registerUser();
    await env.DB.prepare("UPDATE users SET is_staff = 1 WHERE id = ?").bind(user.id).run();
    expect(await profileStatus(user.access)).toBe(401);
    expect((await api("POST", "/api/categories/", { token: user.access, body: { name: unique("Cat ") } })).status).toBe(401);
    const admin = (await login(user.username)).body;
    await env.DB.prepare("UPDATE users SET is_staff = 0 WHERE id = ?").bind(user.id).run();
    expect(await profileStatus(admin.access)).toBe(401);
  });

  it("other changes to the account (profile fields) end no session", async () => {
    const user = await registerUser();
    await env.DB.prepare("UPDATE users SET first_name = 'Renamed' WHERE id = ?").bind(user.id).run();
    expect(await profileStatus(user.access)).toBe(200);
  });
});

describe("Cache-Control", () => {
  it("every authenticated response says no-store: profile, addresses, cart, orders, payments, admin data", async () => {
    const user = await registerUser();
    const admin = await createAdmin();
    for (const path of ["/api/auth/profile/", "/api/auth/addresses/", "/api/cart/", "/api/orders/", "/api/orders/999999/"]) {
      expect((await api("GET", path, { token: user.access })).headers.get("Cache-Control"), path).toBe("no-store");
    }
    const pay = await api("POST", "/api/payments/initiate/", { token: user.access, body: { order_id: 999999 } });
    expect(pay.status).toBeGreaterThanOrEqual(400);
    expect(pay.headers.get("Cache-Control")).toBe("no-store");
    const dashboard = await api("GET", "/api/products/analytics/", { token: admin.access });
    expect(dashboard.status).toBe(200);
    expect(dashboard.headers.get("Cache-Control")).toBe("no-store");
    // tokens too: login and refresh answers are no one's to keep
    expect((await login(user.username)).headers.get("Cache-Control")).toBe("no-store");
  });

  it("public catalogue responses keep their caching", async () => {
    const res = await api("GET", "/api/products/");
    expect(res.status).toBe(200);
    expect(res.headers.get("Cache-Control")).toBe("public, max-age=30");
    expect((await api("GET", "/api/categories/")).headers.get("Cache-Control")).toBe("public, max-age=30");
  });
});

import jwt from "@tsndr/cloudflare-worker-jwt";
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { MAX_SESSIONS_PER_USER } from "../src/features/auth/auth.service";
import { PBKDF2_ITERATIONS } from "../src/features/auth/password";
import { api, createAdmin, login, PASSWORD, registerUser, schemaProperties, unique } from "./helpers";

describe("register", () => {
  it("creates an account and returns the user, tokens and a message", async () => {
    const username = unique("newuser");
    const res = await api("POST", "/api/auth/register/", {
      body: {
        username,
        email: `${username}@example.com`,
        password: "NewPass123!",
        password2: "NewPass123!",
        first_name: "New",
        last_name: "User",
        phone: "1234567890",
      },
    });
    expect(res.status).toBe(201);
    expect(res.body.message).toBe("User registered successfully");
    expect(Object.keys(res.body.user).sort()).toEqual(["date_joined", "email", "first_name", "id", "last_name", "phone", "username"]);
    expect(res.body.user).toMatchObject({ username, first_name: "New", last_name: "User", phone: "1234567890" });
    expect(res.body.tokens.access).toBeTypeOf("string");
    expect(res.body.tokens.refresh).toBeTypeOf("string");
    expect((await login(username, "NewPass123!")).status).toBe(200);
  });

  it("rejects mismatched passwords", async () => {
    const username = unique("u");
    const res = await api("POST", "/api/auth/register/", {
      body: { username, email: `${username}@example.com`, password: PASSWORD, password2: "Different-Pass1!" },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ password: ["Password fields didn't match."] });
  });

  it("applies the password rules and stacks their messages", async () => {
    const username = unique("u");
    const res = await api("POST", "/api/auth/register/", {
      body: { username, email: `${username}@example.com`, password: "1234567", password2: "1234567" },
    });
    expect(res.status).toBe(400);
    expect(res.body.password).toEqual([
      "This password is too short. It must contain at least 8 characters.",
      "This password is entirely numeric.",
    ]);
    const common = await api("POST", "/api/auth/register/", {
      body: { username, email: `${username}@example.com`, password: "password123", password2: "password123" },
    });
    expect(common.body.password).toContain("This password is too common.");
    const similar = await api("POST", "/api/auth/register/", {
      body: { username: "johnathan", email: "jo@example.com", password: "johnathan1", password2: "johnathan1" },
    });
    expect(similar.body.password).toContain("The password is too similar to the username.");
  });

  it("refuses duplicate usernames and emails, case-insensitively", async () => {
    const user = await registerUser();
    const sameName = await api("POST", "/api/auth/register/", {
      body: { username: user.username.toUpperCase(), email: "other@example.com", password: PASSWORD, password2: PASSWORD },
    });
    expect(sameName.status).toBe(400);
    expect(sameName.body).toEqual({ username: ["A user with that username already exists."] });
    const sameEmail = await api("POST", "/api/auth/register/", {
      body: { username: unique("x"), email: user.email.toUpperCase(), password: PASSWORD, password2: PASSWORD },
    });
    expect(sameEmail.status).toBe(400);
    expect(sameEmail.body).toEqual({ email: ["A user with that email already exists."] });
  });

  it("names a taken username and a taken email together in one 400", async () => {
    const user = await registerUser();
    const res = await api("POST", "/api/auth/register/", {
      body: { username: user.username, email: user.email.toUpperCase(), password: PASSWORD, password2: PASSWORD },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      username: ["A user with that username already exists."],
      email: ["A user with that email already exists."],
    });
  });

  it("combines a taken username with the format errors of other fields and a weak password", async () => {
    const user = await registerUser();
    const res = await api("POST", "/api/auth/register/", {
      body: { username: user.username, email: "not-an-email", password: "1234", password2: "1234", phone: "x".repeat(16) },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      username: ["A user with that username already exists."],
      email: ["Enter a valid email address."],
      password: ["This password is too short. It must contain at least 8 characters.", "This password is entirely numeric."],
      phone: ["Ensure this field has no more than 15 characters."],
    });
    const taken = await api("POST", "/api/auth/register/", {
      body: { username: unique("free"), email: user.email, password: PASSWORD, password2: PASSWORD, first_name: 7 },
    });
    expect(taken.body).toEqual({ email: ["A user with that email already exists."], first_name: ["Not a valid string."] });
  });

  it("creates a plain user when the body says is_staff: true", async () => {
    const username = unique("climber");
    const res = await api("POST", "/api/auth/register/", {
      body: { username, email: `${username}@example.com`, password: PASSWORD, password2: PASSWORD, is_staff: true, is_superuser: true, id: 1 },
    });
    expect(res.status).toBe(201);
    expect(res.body.user.id).not.toBe(1);
    expect(await env.DB.prepare("SELECT is_staff FROM users WHERE id = ?").bind(res.body.user.id).first("is_staff")).toBe(0);
    expect((await api("GET", "/api/products/low_stock/", { token: res.body.tokens.access })).status).toBe(403);
  });

  it("names each bad field and writes nothing", async () => {
    const res = await api("POST", "/api/auth/register/", {
      body: { username: "bad name!", email: "not-an-email", password: PASSWORD, password2: PASSWORD, is_staff: true, id: 1 },
    });
    expect(res.status).toBe(400);
    // is_staff and id are ignored, as DRF does: never an error, never written
    expect(Object.keys(res.body).sort()).toEqual(["email", "username"]);
    const missing = await api("POST", "/api/auth/register/", { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.username).toEqual(["This field is required."]);
    expect(missing.body.password).toEqual(["This field is required."]);
    const long = await api("POST", "/api/auth/register/", {
      body: { username: "a".repeat(151), email: "a@example.com", password: PASSWORD, password2: PASSWORD },
    });
    expect(long.body.username).toEqual(["Ensure this field has no more than 150 characters."]);
    const count = await env.DB.prepare("SELECT count(*) AS n FROM users WHERE email IN ('not-an-email', 'a@example.com')").first<{ n: number }>();
    expect(count?.n).toBe(0);
  });

  it("answers malformed JSON and wrong types with a JSON 400", async () => {
    const res = await api("POST", "/api/auth/register/", { raw: "{not json" });
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(/JSON parse error/);
    const typed = await api("POST", "/api/auth/register/", { body: { username: 42, email: [], password: {}, password2: null } });
    expect(typed.status).toBe(400);
    expect(Object.keys(typed.body).sort()).toEqual(["email", "password", "password2", "username"]);
  });
});

describe("login", () => {
  it("returns an access and a refresh token", async () => {
    const user = await registerUser();
    const res = await login(user.username);
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["access", "device_token", "refresh"]);
    const { payload } = jwt.decode(res.body.access);
    expect(payload).toMatchObject({ token_type: "access", user_id: user.id });
    expect(payload!.exp! - payload!.iat!).toBe(3600);
    const refresh = jwt.decode<{ token_type: string }>(res.body.refresh).payload!;
    expect(refresh.token_type).toBe("refresh");
    expect(refresh.exp! - refresh.iat!).toBe(7 * 24 * 3600);
    expect(refresh.jti).toMatch(/^[0-9a-f]{32}$/);
  });

  it("refuses a wrong password or an unknown user with the contract's 401", async () => {
    const user = await registerUser();
    for (const res of [await login(user.username, "WrongPassword"), await login(unique("ghost"), "WrongPassword")]) {
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ detail: "No active account found with the given credentials" });
    }
  });

  it("is case-insensitive on the username", async () => {
    const user = await registerUser("Mixed");
    expect((await login(user.username.toUpperCase())).status).toBe(200);
  });

  it("locks a client out of a username after repeated failures, even for the right password", async () => {
    const user = await registerUser();
    for (let i = 0; i < 5; i++) expect((await login(user.username, "WrongPassword")).status).toBe(401);
    const locked = await login(user.username);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(locked.body.detail).toMatch(/Too many failed login attempts/);
  });

  it("keeps an account's 20 newest sessions: signing in a 21st time signs the oldest device out", async () => {
    const user = await registerUser(); // registering is the first session
    const signIns = [];
    for (let i = 0; i < MAX_SESSIONS_PER_USER + 2; i++) {
      const res = await login(user.username);
      expect(res.status).toBe(200);
      signIns.push(res.body);
    }
    const refresh = (token: string) => api("POST", "/api/auth/token/refresh/", { body: { refresh: token } });
    const profile = (access: string) => api("GET", "/api/auth/profile/", { token: access });
    // registration and the first two sign-ins are gone, for refresh and for the access token alike
    expect((await refresh(user.refresh)).status).toBe(401);
    for (const oldest of signIns.slice(0, 2)) {
      expect((await refresh(oldest.refresh)).status).toBe(401);
      expect((await profile(oldest.access)).status).toBe(401);
    }
    for (const kept of [signIns[2], signIns.at(-1)!]) expect((await profile(kept.access)).status).toBe(200);
    expect((await refresh(signIns[2].refresh)).status).toBe(200);
    const rows = await env.DB.prepare("SELECT count(*) AS n FROM sessions WHERE user_id = ?").bind(user.id).first<{ n: number }>();
    expect(rows?.n).toBe(MAX_SESSIONS_PER_USER);
  });

  it("throttles one client trying many usernames", async () => {
    const ip = { "CF-Connecting-IP": "203.0.113.9" };
    for (let i = 0; i < 20; i++) await login(unique("spray"), "WrongPassword", ip);
    const user = await registerUser();
    expect((await login(user.username, PASSWORD, ip)).status).toBe(429);
    expect((await login(user.username, PASSWORD, { "CF-Connecting-IP": "203.0.113.10" })).status).toBe(200);
  });
});

describe("profile", () => {
  it("needs a token", async () => {
    const res = await api("GET", "/api/auth/profile/");
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: "Authentication credentials were not provided." });
  });

  it("returns the caller and lets them change their details but never is_staff or id", async () => {
    const user = await registerUser();
    const me = await api("GET", "/api/auth/profile/", { token: user.access });
    expect(me.status).toBe(200);
    expect(me.body.username).toBe(user.username);
    const patched = await api("PATCH", "/api/auth/profile/", { token: user.access, body: { first_name: "Ada", phone: "999" } });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ first_name: "Ada", phone: "999", username: user.username });
    // privileged and read-only keys are ignored, as DRF does: nothing is written from them
    const staff = await api("PATCH", "/api/auth/profile/", { token: user.access, body: { is_staff: true, is_superuser: true, id: 1 } });
    expect(staff.status).toBe(200);
    expect(staff.body.id).toBe(user.id);
    expect(await env.DB.prepare("SELECT is_staff FROM users WHERE id = ?").bind(user.id).first("is_staff")).toBe(0);
    const put = await api("PUT", "/api/auth/profile/", { token: user.access, body: { first_name: "X" } });
    expect(put.status).toBe(400);
    expect(put.body).toEqual({ username: ["This field is required."] });
    const renamed = unique("renamed");
    const put2 = await api("PUT", "/api/auth/profile/", { token: user.access, body: { username: renamed } });
    expect(put2.status).toBe(200);
    expect(put2.body.username).toBe(renamed);
  });

  it("refuses a username that another user has", async () => {
    const a = await registerUser();
    const b = await registerUser();
    const res = await api("PATCH", "/api/auth/profile/", { token: b.access, body: { username: a.username } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ username: ["A user with that username already exists."] });
    const both = await api("PUT", "/api/auth/profile/", { token: b.access, body: { username: a.username.toUpperCase(), email: "nope" } });
    expect(both.body).toEqual({ username: ["A user with that username already exists."], email: ["Enter a valid email address."] });
    const emails = await api("PATCH", "/api/auth/profile/", { token: b.access, body: { username: a.username, email: a.email } });
    expect(emails.body).toEqual({ username: ["A user with that username already exists."], email: ["A user with that email already exists."] });
    // the user's own name and email are not "taken"
    expect((await api("PATCH", "/api/auth/profile/", { token: b.access, body: { username: b.username, email: b.email } })).status).toBe(200);
  });

  it("moves the email (where a password reset goes) only with the account's password, never with a token alone", async () => {
    const user = await registerUser();
    const moved = unique("moved") + "@example.com";
    const withoutPassword = await api("PATCH", "/api/auth/profile/", { token: user.access, body: { email: moved } });
    expect(withoutPassword.status).toBe(400);
    expect(withoutPassword.body).toEqual({ current_password: ["Your password is required to change the email."] });
    const wrong = await api("PUT", "/api/auth/profile/", { token: user.access, body: { username: user.username, email: moved, current_password: "Not-The-Passw0rd!" } });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ current_password: ["Wrong password."] });
    expect((await api("GET", "/api/auth/profile/", { token: user.access })).body.email).toBe(user.email);
    // the same email in another case is no change; other fields need no password
    const sameEmail = await api("PATCH", "/api/auth/profile/", { token: user.access, body: { email: user.email.toUpperCase(), first_name: "Asha" } });
    expect(sameEmail.status).toBe(200);
    const ok = await api("PATCH", "/api/auth/profile/", { token: user.access, body: { email: moved, current_password: user.password } });
    expect(ok.status).toBe(200);
    expect(ok.body.email).toBe(moved);
  });

  it("counts wrong passwords on an email change as failed logins, so a token cannot guess the password", async () => {
    const user = await registerUser();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await api("PATCH", "/api/auth/profile/", { token: user.access, body: { email: `g${i}-${user.email}`, current_password: `Guess-${i}-Passw0rd!` } });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 5)).toEqual([400, 400, 400, 400, 400]);
    expect(statuses[5]).toBe(429);
    const right = await api("PATCH", "/api/auth/profile/", { token: user.access, body: { email: `final-${user.email}`, current_password: user.password } });
    expect(right.status).toBe(429);
  });
});

describe("tokens", () => {
  const bad = { detail: "Given token not valid for any token type", code: "token_not_valid" };

  it("serves a read that started beside the session check only if the session and the staff flag hold", async () => {
    const admin = await createAdmin();
    const user = await registerUser();
    expect((await api("GET", "/api/orders/", { token: admin.access })).status).toBe(200);
    expect(jwt.decode(admin.access).payload).toMatchObject({ stf: true });
    // demoted after the token was issued: the admin-scoped read already ran, but its answer is withheld
    await env.DB.prepare("UPDATE users SET is_staff = 0 WHERE id = ?").bind(admin.id).run();
    for (const path of ["/api/orders/", "/api/products/analytics/", "/api/auth/profile/"]) {
      expect(await api("GET", path, { token: admin.access }), path).toMatchObject({ status: 401, body: bad });
    }
    // the demotion ended the admin's sessions (migration 0007's trigger); a new login's token carries the flag as it is now
    expect((await api("POST", "/api/auth/token/refresh/", { body: { refresh: admin.refresh } })).status).toBe(401);
    const relogged = await login(admin.username);
    expect(jwt.decode(relogged.body.access).payload).toMatchObject({ stf: false });
    expect((await api("GET", "/api/products/analytics/", { token: relogged.body.access })).status).toBe(403);
    // a revoked session: its reads get nothing
    await api("POST", "/api/auth/logout/", { token: user.access, body: { refresh: user.refresh } });
    for (const path of ["/api/orders/", "/api/cart/", "/api/auth/profile/", "/api/auth/addresses/"]) {
      expect(await api("GET", path, { token: user.access }), path).toMatchObject({ status: 401, body: bad });
    }
  });

  it("refuses garbage, tampered, foreign-key, alg:none, expired and refresh tokens with 401, on public routes too", async () => {
    const user = await registerUser();
    const { payload } = jwt.decode(user.access);
    const tampered = (() => {
      const [h, , s] = user.access.split(".");
      const body = btoa(JSON.stringify({ ...payload, user_id: 1, is_staff: true })).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      return `${h}.${body}.${s}`;
    })();
    const none = await jwt.sign({ ...payload }, "", { algorithm: "none" }).catch(() => `${btoa('{"alg":"none","typ":"JWT"}')}.${btoa(JSON.stringify(payload))}.`);
    const foreign = await jwt.sign({ ...payload }, "another-secret-entirely", { algorithm: "HS256" });
    const expired = await jwt.sign({ ...payload, exp: Math.floor(Date.now() / 1000) - 10 }, env.JWT_SECRET);
    const noExp = await jwt.sign({ ...payload, exp: undefined }, env.JWT_SECRET);
    const notYet = await jwt.sign({ ...payload, nbf: Math.floor(Date.now() / 1000) + 3600 }, env.JWT_SECRET);
    for (const token of ["abc", "a.b", "%%%.%%%.%%%", tampered, none, foreign, expired, noExp, notYet, user.refresh]) {
      for (const path of ["/api/auth/profile/", "/api/products/", "/api/cart/"]) {
        const res = await api("GET", path, { token });
        expect(res.status, `${path} ${token}`).toBe(401);
        expect(res.body).toEqual(bad);
      }
    }
    const spaced = await api("GET", "/api/auth/profile/", { headers: { Authorization: "Bearer a b" } });
    expect(spaced.status).toBe(401);
    expect(spaced.body.code).toBe("bad_authorization_header");
  });

  it("rotates refresh tokens: the old one is spent and its reuse ends the session", async () => {
    const user = await registerUser();
    const first = await api("POST", "/api/auth/token/refresh/", { body: { refresh: user.refresh } });
    expect(first.status).toBe(200);
    expect(Object.keys(first.body).sort()).toEqual(["access", "refresh"]);
    expect((await api("GET", "/api/auth/profile/", { token: first.body.access })).status).toBe(200);
    const reuse = await api("POST", "/api/auth/token/refresh/", { body: { refresh: user.refresh } });
    expect(reuse.status).toBe(401);
    expect(reuse.body).toEqual({ detail: "Token is blacklisted", code: "token_not_valid" });
    // the reuse looked like theft, so the rotated token is dead too
    expect((await api("POST", "/api/auth/token/refresh/", { body: { refresh: first.body.refresh } })).status).toBe(401);
    expect((await api("GET", "/api/auth/profile/", { token: first.body.access })).status).toBe(401);
  });

  it("refuses an access token on the refresh route", async () => {
    const user = await registerUser();
    const res = await api("POST", "/api/auth/token/refresh/", { body: { refresh: user.access } });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: "Token is invalid", code: "token_not_valid" });
    expect((await api("POST", "/api/auth/token/refresh/", { body: {} })).body).toEqual({ refresh: ["This field is required."] });
  });
});

describe("logout", () => {
  const signedIn = async (tokens: { access: string; refresh: string }) => ({
    access: (await api("GET", "/api/auth/profile/", { token: tokens.access })).status === 200,
    // a successful refresh spends this refresh token: call this last for a set of tokens
    refresh: (await api("POST", "/api/auth/token/refresh/", { body: { refresh: tokens.refresh } })).status === 200,
  });

  it("signs out only the device whose refresh token it is given; the user's other devices stay signed in", async () => {
    const user = await registerUser();
    const phone = (await login(user.username)).body;
    const res = await api("POST", "/api/auth/logout/", { token: user.access, body: { refresh: user.refresh } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "Logout successful" });
    // the logged-out session ends at once: its refresh token and its access token
    expect(await signedIn(user)).toEqual({ access: false, refresh: false });
    expect(await signedIn(phone)).toEqual({ access: true, refresh: true });
  });

  it("signs out another of the user's own devices when given that device's refresh token", async () => {
    const user = await registerUser();
    const tablet = (await login(user.username)).body;
    expect((await api("POST", "/api/auth/logout/", { token: user.access, body: { refresh: tablet.refresh } })).status).toBe(200);
    expect(await signedIn(tablet)).toEqual({ access: false, refresh: false });
    expect((await api("GET", "/api/auth/profile/", { token: user.access })).status).toBe(200);
  });

  it("signs out everywhere with all: true, and no other user", async () => {
    const user = await registerUser();
    const phone = (await login(user.username)).body;
    const bystander = await registerUser();
    const res = await api("POST", "/api/auth/logout/", { token: user.access, body: { refresh: user.refresh, all: true } });
    expect(res).toMatchObject({ status: 200, body: { message: "Logout successful" } });
    expect(await signedIn(user)).toEqual({ access: false, refresh: false });
    expect(await signedIn(phone)).toEqual({ access: false, refresh: false });
    expect(await signedIn(bystander)).toEqual({ access: true, refresh: true });
  });

  it("documents all in the OpenAPI document", async () => {
    const doc = (await api("GET", "/openapi.json")).body;
    const schema = schemaProperties(doc, doc.paths["/api/auth/logout/"].post.requestBody.content["application/json"].schema);
    expect(schema.properties.all).toMatchObject({ type: "boolean", default: false });
    expect(schema.required).toEqual(["refresh"]);
  });

  it("refuses a bad token or someone else's with 400 and changes nothing", async () => {
    const a = await registerUser();
    const b = await registerUser();
    const garbage = await api("POST", "/api/auth/logout/", { token: a.access, body: { refresh: "garbage" } });
    expect(garbage.status).toBe(400);
    expect(garbage.body).toEqual({ error: "Token is invalid" });
    const foreign = await api("POST", "/api/auth/logout/", { token: a.access, body: { refresh: b.refresh } });
    expect(foreign.status).toBe(400);
    expect((await api("GET", "/api/auth/profile/", { token: b.access })).status).toBe(200);
    expect((await api("POST", "/api/auth/logout/", { token: a.access, body: {} })).body).toEqual({ refresh: ["This field is required."] });
    expect((await api("POST", "/api/auth/logout/", { body: { refresh: a.refresh } })).status).toBe(401);
    expect((await api("POST", "/api/auth/logout/", { token: a.access, body: { refresh: a.refresh, all: "yes" } })).status).toBe(400);
    expect((await api("GET", "/api/auth/profile/", { token: a.access })).status).toBe(200);
  });
});

describe("change-password", () => {
  it("changes the password, keeps the caller's session and ends the others", async () => {
    const user = await registerUser();
    const other = (await login(user.username)).body;
    const res = await api("POST", "/api/auth/change-password/", {
      token: user.access,
      body: { old_password: PASSWORD, new_password: "Brand-New-Passw0rd" },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ message: "Password updated successfully" });
    expect((await api("GET", "/api/auth/profile/", { token: user.access })).status).toBe(200);
    expect((await api("GET", "/api/auth/profile/", { token: other.access })).status).toBe(401);
    expect((await api("POST", "/api/auth/token/refresh/", { body: { refresh: other.refresh } })).status).toBe(401);
    expect((await login(user.username, PASSWORD)).status).toBe(401);
    expect((await login(user.username, "Brand-New-Passw0rd")).status).toBe(200);
  });

  it("refuses a wrong old password and a weak new one", async () => {
    const user = await registerUser();
    const wrong = await api("POST", "/api/auth/change-password/", {
      token: user.access,
      body: { old_password: "not-my-password", new_password: "Brand-New-Passw0rd" },
    });
    expect(wrong.status).toBe(400);
    expect(wrong.body).toEqual({ old_password: ["Wrong password."] });
    const weak = await api("POST", "/api/auth/change-password/", { token: user.access, body: { old_password: PASSWORD, new_password: "short" } });
    expect(weak.status).toBe(400);
    expect(weak.body.new_password).toContain("This password is too short. It must contain at least 8 characters.");
    expect((await login(user.username)).status).toBe(200);
  });

  it("hashes with at most 100,000 PBKDF2 iterations, the production limit", async () => {
    expect(PBKDF2_ITERATIONS).toBeLessThanOrEqual(100_000);
    const row = await env.DB.prepare("SELECT password_hash FROM users LIMIT 1").first<{ password_hash: string }>();
    expect(row?.password_hash).toMatch(/^pbkdf2_sha256\$100000\$/);
  });
});

describe("addresses", () => {
  const address = { street_address: "1 MG Road", city: "Bengaluru", state: "KA", postal_code: "560001" };

  it("lets a user keep their own addresses, with one default", async () => {
    const user = await registerUser();
    const created = await api("POST", "/api/auth/addresses/", { token: user.access, body: { ...address, is_default: true } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ ...address, country: "India", address_type: "shipping", is_default: true });
    const second = await api("POST", "/api/auth/addresses/", { token: user.access, body: { ...address, city: "Pune", is_default: true } });
    const list = await api("GET", "/api/auth/addresses/", { token: user.access });
    expect(list.body.map((a: any) => [a.id, a.is_default])).toEqual([
      [second.body.id, true],
      [created.body.id, false],
    ]);
    const patched = await api("PATCH", `/api/auth/addresses/${created.body.id}/`, { token: user.access, body: { city: "Mysuru" } });
    expect(patched.body.city).toBe("Mysuru");
    expect((await api("DELETE", `/api/auth/addresses/${created.body.id}/`, { token: user.access })).status).toBe(204);
    expect((await api("GET", `/api/auth/addresses/${created.body.id}/`, { token: user.access })).status).toBe(404);
  });

  it("hides one user's addresses from another", async () => {
    const a = await registerUser();
    const b = await registerUser();
    const created = await api("POST", "/api/auth/addresses/", { token: a.access, body: address });
    for (const [method, body] of [["GET"], ["PATCH", { city: "X" }], ["DELETE"]] as const) {
      const res = await api(method, `/api/auth/addresses/${created.body.id}/`, { token: b.access, body });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ detail: "Not found." });
    }
    expect((await api("GET", "/api/auth/addresses/", { token: b.access })).body).toEqual([]);
    expect((await api("GET", `/api/auth/addresses/${created.body.id}/`, { token: a.access })).body.city).toBe("Bengaluru");
  });

  it("validates fields", async () => {
    const user = await registerUser();
    const res = await api("POST", "/api/auth/addresses/", { token: user.access, body: { ...address, city: "x".repeat(101), address_type: "home" } });
    expect(res.status).toBe(400);
    expect(Object.keys(res.body).sort()).toEqual(["address_type", "city"]);
    expect((await api("GET", "/api/auth/addresses/abc/", { token: user.access })).status).toBe(404);
  });
});

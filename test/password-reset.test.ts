/** Password reset (OWASP Forgot Password): request, email, confirm; enumeration, token and throttle rules. */
import { env } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { api, login, PASSWORD, registerUser, unique } from "./helpers";
import { drain, fakeResend, mailingEnv } from "./messaging";

afterEach(() => vi.restoreAllMocks());

const NEW_PASSWORD = "Fresh-Meadow-4821!";
const SAME_ANSWER = { detail: "If an account with that email exists, we have sent a reset link." };

/** Asks for a reset from a fresh client IP and returns the token from the emailed link (or null: no email). */
async function requestReset(email: string, ip = `10.1.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`) {
  const sent = fakeResend();
  const { recorder, bindings } = mailingEnv();
  const res = await api("POST", "/api/auth/password-reset/", { body: { email }, headers: { "CF-Connecting-IP": ip }, env: bindings });
  await drain(recorder, bindings);
  vi.restoreAllMocks();
  const link = sent[0] && /https:\/\/shop\.example\/reset-password\/\?token=([\w-]+)/.exec(sent[0].body.text);
  return { res, sent, token: link ? link[1] : null };
}

const confirm = (token: string, password = NEW_PASSWORD, password2 = password) =>
  api("POST", "/api/auth/password-reset/confirm/", { body: { token, new_password: password, new_password2: password2 } });

describe("password reset", () => {
  it("resets by the emailed link: old sessions end, the new password signs in, the reset itself does not", async () => {
    const user = await registerUser("forgetful");
    const { res, sent, token } = await requestReset(user.email.toUpperCase());
    expect(res.status).toBe(200);
    expect(res.body).toEqual(SAME_ANSWER);
    expect(sent).toHaveLength(1);
    expect(sent[0].body.to).toEqual([user.email]);
    expect(sent[0].body.subject).toContain("reset your password");
    expect(token!.length).toBeGreaterThanOrEqual(43); // 32 bytes, base64url

    const row = await env.DB.prepare("SELECT token_hash FROM password_resets WHERE user_id = ?").bind(user.id).first<{ token_hash: string }>();
    expect(row!.token_hash).not.toBe(token); // stored only as its hash

    const done = await confirm(token!);
    expect(done.status).toBe(200);
    expect(JSON.stringify(done.body)).not.toMatch(/access|refresh/);
    expect((await api("GET", "/api/auth/profile/", { token: user.access })).status).toBe(401);
    expect((await api("POST", "/api/auth/token/refresh/", { body: { refresh: user.refresh } })).status).toBe(401);
    expect((await login(user.username, PASSWORD)).status).toBe(401);
    expect((await login(user.username, NEW_PASSWORD)).status).toBe(200);
  });

  it("answers an unknown email with the same status and body, and sends nothing", async () => {
    const { res, sent } = await requestReset(`${unique("nobody")}@example.com`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual(SAME_ANSWER);
    expect(sent).toHaveLength(0);
  });

  it("refuses a spent, an expired, an altered and a superseded token", async () => {
    const user = await registerUser("tokens");
    const invalid = { token: ["Invalid or expired token."] };

    const first = (await requestReset(user.email)).token!;
    const second = (await requestReset(user.email)).token!;
    expect((await confirm(first)).body).toEqual(invalid); // a newer request made it useless
    const altered = second.slice(0, -2) + (second.endsWith("AA") ? "BB" : "AA");
    expect((await confirm(altered)).body).toEqual(invalid);
    expect((await confirm(second)).status).toBe(200);
    const spent = await confirm(second, "Another-Passw0rd-99!");
    expect(spent.status).toBe(400);
    expect(spent.body).toEqual(invalid);

    const third = (await requestReset(user.email)).token!;
    await env.DB.prepare("UPDATE password_resets SET expires_at = ? WHERE user_id = ? AND used_at IS NULL").bind(Date.now() - 1, user.id).run();
    expect((await confirm(third)).body).toEqual(invalid);
    expect((await login(user.username, NEW_PASSWORD)).status).toBe(200);
  });

  it("applies the register password rules", async () => {
    const user = await registerUser("rules");
    const { token } = await requestReset(user.email);
    const mismatch = await confirm(token!, NEW_PASSWORD, `${NEW_PASSWORD}x`);
    expect(mismatch.status).toBe(400);
    expect(mismatch.body.new_password).toBeDefined();
    const weak = await confirm(token!, "password");
    expect(weak.status).toBe(400);
    expect(weak.body.new_password).toBeDefined();
    expect((await confirm(token!)).status).toBe(200); // the token was not spent by the refusals
  });

  it("builds the link from configuration, never from the Host header", async () => {
    const user = await registerUser("host");
    const sent = fakeResend();
    const { recorder, bindings } = mailingEnv();
    await api("POST", "/api/auth/password-reset/", { body: { email: user.email }, headers: { Host: "evil.example", "X-Forwarded-Host": "evil.example" }, env: bindings });
    await drain(recorder, bindings);
    expect(sent[0].body.text).toContain("https://shop.example/reset-password/?token=");
    expect(JSON.stringify(sent[0].body)).not.toContain("evil.example");
  });

  it("throttles: 3 emails per address per hour (same answer), 20 requests per IP per hour (429 + Retry-After)", async () => {
    const user = await registerUser("throttle");
    const sentTo: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { res, sent } = await requestReset(user.email);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(SAME_ANSWER);
      sentTo.push(sent.length);
    }
    expect(sentTo).toEqual([1, 1, 1, 0, 0]);

    const ip = "10.9.9.9";
    const statuses: number[] = [];
    let last;
    for (let i = 0; i < 21; i++) {
      last = await api("POST", "/api/auth/password-reset/", { body: { email: `${unique("x")}@example.com` }, headers: { "CF-Connecting-IP": ip } });
      statuses.push(last.status);
    }
    expect(statuses.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(statuses[20]).toBe(429);
    expect(Number(last!.headers.get("Retry-After"))).toBeGreaterThan(0);
  });
});

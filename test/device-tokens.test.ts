/**
 * Issue 28, items 3 and 4: every route that checks a password counts failures as login does, and a known device
 * (OWASP device cookie) is never locked out by other people's failures.
 */
import { describe, expect, it } from "vitest";
import { api, PASSWORD, registerUser, unique } from "./helpers";

const from = (ip: string) => ({ "CF-Connecting-IP": ip });
let net = 0;
/** A client address no other test of this file uses. */
const freshIp = () => `198.51.${100 + Math.floor(net / 250)}.${(net++ % 250) + 1}`;

function loginAs(username: string, password: string, ip: string, device_token?: string) {
  return api("POST", "/api/auth/login/", { body: { username, password, ...(device_token ? { device_token } : {}) }, headers: from(ip) });
}

/** A user who has logged in once from their own device: returns the device token that login gave. */
async function knownDevice(ip = freshIp()) {
  const user = await registerUser("dev");
  const res = await loginAs(user.username, PASSWORD, ip);
  expect(res.status).toBe(200);
  expect(res.body.device_token).toMatch(/^dt1\./);
  return { user, deviceToken: res.body.device_token as string, ip };
}

describe("device tokens", () => {
  it("login returns a device token beside the token pair", async () => {
    const { deviceToken } = await knownDevice();
    expect(deviceToken.length).toBeLessThan(512);
  });

  it("20 wrong logins for 20 usernames from one IP, then a known device of another user behind that IP logs in", async () => {
    const shared = freshIp();
    const { user, deviceToken } = await knownDevice(shared);
    for (let i = 0; i < 20; i++) expect((await loginAs(unique("spray"), "WrongPassword", shared)).status).toBe(401);
    // the address is locked for clients without a device token, even with the right password
    expect((await loginAs(user.username, PASSWORD, shared)).status).toBe(429);
    const res = await loginAs(user.username, PASSWORD, shared, deviceToken);
    expect(res.status).toBe(200);
    expect((await api("GET", "/api/auth/profile/", { token: res.body.access })).status).toBe(200);
  });

  it("50 wrong logins for one account from 10 IPs, then its owner's known device logs in", async () => {
    const { user, deviceToken, ip } = await knownDevice();
    for (let n = 0; n < 10; n++) {
      const attacker = freshIp();
      for (let i = 0; i < 5; i++) expect((await loginAs(user.username, "WrongPassword", attacker)).status).toBe(401);
    }
    // the account is locked for every client without a device token, the owner's own address included
    expect((await loginAs(user.username, PASSWORD, freshIp())).status).toBe(429);
    expect((await loginAs(user.username, PASSWORD, ip)).status).toBe(429);
    expect((await loginAs(user.username, PASSWORD, ip, deviceToken)).status).toBe(200);
  });

  it("a guessing client stays throttled: a stolen device token buys 5 guesses, not unlimited ones", async () => {
    const { user, deviceToken } = await knownDevice();
    const thief = freshIp();
    for (let i = 0; i < 5; i++) expect((await loginAs(user.username, `Guess-${i}`, thief, deviceToken)).status).toBe(401);
    const locked = await loginAs(user.username, PASSWORD, thief, deviceToken);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("Retry-After"))).toBeGreaterThan(0);
    // from another address too: the failures count against the token, not the address
    expect((await loginAs(user.username, PASSWORD, freshIp(), deviceToken)).status).toBe(429);
    // a guesser without a device token keeps today's limits (5 per account and client)
    const other = freshIp();
    for (let i = 0; i < 5; i++) expect((await loginAs(user.username, `Guess-${i}`, other)).status).toBe(401);
    expect((await loginAs(user.username, PASSWORD, other)).status).toBe(429);
  });

  it("another user's device token, a forged one or a tampered one gets no trust", async () => {
    const shared = freshIp();
    const { user } = await knownDevice(shared);
    const stranger = await knownDevice();
    for (let i = 0; i < 20; i++) await loginAs(unique("spray"), "WrongPassword", shared);
    const [version, payload, signature] = stranger.deviceToken.split(".");
    const tampered = `${version}.${payload.slice(0, -2)}AA.${signature}`;
    for (const token of [stranger.deviceToken, "dt1.forged.0000", tampered]) {
      expect((await loginAs(user.username, PASSWORD, shared, token)).status).toBe(429);
    }
  });

  it("a password change revokes every device token of the user", async () => {
    const shared = freshIp();
    const { user, deviceToken } = await knownDevice(shared);
    const changed = await api("POST", "/api/auth/change-password/", {
      token: user.access,
      body: { old_password: PASSWORD, new_password: "Brand-New-Passw0rd" },
      headers: from(freshIp()),
    });
    expect(changed.status).toBe(200);
    for (let i = 0; i < 20; i++) await loginAs(unique("spray"), "WrongPassword", shared);
    expect((await loginAs(user.username, "Brand-New-Passw0rd", shared, deviceToken)).status).toBe(429);
  });
});

describe("change-password counts failures as login does", () => {
  const change = (access: string, old_password: string, ip: string) =>
    api("POST", "/api/auth/change-password/", { token: access, body: { old_password, new_password: "Brand-New-Passw0rd" }, headers: from(ip) });

  it("5 wrong old passwords, then the right one is refused with 429", async () => {
    const user = await registerUser();
    const ip = freshIp();
    for (let i = 0; i < 5; i++) expect((await change(user.access, `Guess-${i}`, ip)).status).toBe(400);
    const res = await change(user.access, PASSWORD, ip);
    expect(res.status).toBe(429);
    expect(res.headers.get("Retry-After")).toMatch(/^\d+$/);
    expect((await loginAs(user.username, PASSWORD, freshIp())).status).toBe(200);
  });

  it("wrong old passwords count against the client's login limit too", async () => {
    const user = await registerUser();
    const ip = freshIp();
    for (let i = 0; i < 5; i++) expect((await change(user.access, `Guess-${i}`, ip)).status).toBe(400);
    expect((await loginAs(user.username, PASSWORD, ip)).status).toBe(429);
  });

  it("a right old password after a few wrong ones still changes it", async () => {
    const user = await registerUser();
    const ip = freshIp();
    for (let i = 0; i < 3; i++) expect((await change(user.access, `Guess-${i}`, ip)).status).toBe(400);
    expect((await change(user.access, PASSWORD, ip)).status).toBe(200);
  });
});

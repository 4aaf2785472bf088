// Browser test of /reset-password/ (issue 23): the page a customer opens from the reset email, in headless Chromium,
// against `wrangler dev` on this machine with no email provider, so the email (and its link) is written to the dev
// log. The test registers a user, asks for a reset, takes the token from that log line, fills the page's form, sees
// success, and signs in with the new password. Run with `npm run test:browser` (Chromium: see docs.browser.mjs).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { after, before, test } from "node:test";
import { launchChromium, startShop } from "./harness.mjs";

const JWT_SECRET = "browser-test-jwt-secret-0123456789abcdef0123456789";

let shop;
let origin;
let browser;

before(async () => {
  shop = await startShop({
    name: "reset",
    prepare(state) {
      const migrated = spawnSync("wrangler", ["d1", "migrations", "apply", "DB", "--local", "--persist-to", state], {
        encoding: "utf8",
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
      });
      assert.equal(migrated.status, 0, migrated.stderr);
    },
    // No email provider: the email (with its link) is written to the dev log, which the test reads.
    args: (origin) => ["--var", `JWT_SECRET:${JWT_SECRET}`, "--var", "EMAIL_DEV_LOG:1", "--var", "RESEND_API_KEY:", "--var", `PUBLIC_BASE_URL:${origin}`],
  });
  origin = shop.origin;
  browser = await launchChromium(shop.scratch);
});

after(async () => {
  await browser?.close();
  shop?.stop();
});

const post = (path, body) =>
  fetch(`${origin}${path}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });

test("/reset-password/ sets a new password from the emailed link, with no console error", async () => {
  const username = `reset${Date.now().toString(36)}`;
  const email = `${username}@example.com`;
  const oldPassword = "Sturdy-Passw0rd!";
  const newPassword = "Fresh-Meadow-4821!";
  const registered = await post("/api/auth/register/", { username, email, password: oldPassword, password2: oldPassword });
  assert.equal(registered.status, 201, `${await registered.text()}\n${shop.log}`);
  assert.equal((await post("/api/auth/password-reset/", { email })).status, 200);

  // The Queue consumer writes the email to the dev log: recipient, subject and the link.
  const link = await shop.waitFor(
    async () => new RegExp(`"to":"${email}"[^\\n]*"link":"([^"]+)"`).exec(shop.log)?.[1],
    60_000,
    "the reset email in the dev log",
  );
  assert.ok(link.startsWith(`${origin}/reset-password/?token=`), link);

  const page = await browser.newPage();
  const problems = [];
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warn") problems.push(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`uncaught: ${err.message}`));
  page.on("requestfailed", (req) => problems.push(`failed request: ${req.url()}`));
  const res = await page.goto(link, { waitUntil: "networkidle0" });
  assert.equal(res.status(), 200);
  assert.equal(res.headers()["referrer-policy"], "no-referrer");
  assert.match(res.headers()["content-security-policy"] ?? "", /script-src 'self'(;|$)/);
  assert.equal(new URL(page.url()).search, "", "the token is taken out of the address bar");

  await page.type("#new_password", newPassword);
  await page.type("#new_password2", newPassword);
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.getElementById("status").className === "ok", { timeout: 10_000 });
  assert.match(await page.$eval("#status", (el) => el.textContent), /password has been changed/);

  assert.equal((await post("/api/auth/login/", { username, password: newPassword })).status, 200);
  assert.equal((await post("/api/auth/login/", { username, password: oldPassword })).status, 401);
  assert.deepEqual(problems, []);
});

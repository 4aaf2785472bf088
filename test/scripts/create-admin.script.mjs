// `npm run test:scripts`: scripts/create-admin.mjs run as an operator runs it, against a local D1 of its own (a
// temporary folder with this repository's wrangler.toml and migrations), through the real `wrangler d1 execute`.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, test } from "node:test";

const root = resolve(import.meta.dirname, "../..");
const script = join(root, "scripts/create-admin.mjs");
let dir;

before(() => {
  dir = mkdtempSync(join(tmpdir(), "create-admin-"));
  cpSync(join(root, "wrangler.toml"), join(dir, "wrangler.toml"));
  cpSync(join(root, "migrations"), join(dir, "migrations"), { recursive: true });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const createAdmin = (...args) => spawnSync(process.execPath, [script, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, CI: "true" } });
const sql = (command) =>
  JSON.parse(execFileSync("wrangler", ["d1", "execute", "DB", "--local", "--json", "--command", command], { cwd: dir, encoding: "utf8" }))[0].results;

test("creates the named admin, then refuses another username with that email (exit 1, nothing written)", () => {
  const first = createAdmin("--username", "admin", "--email", "admin@example.com", "--password", "Admin-Passw0rd!");
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stdout, /Admin admin is ready/);
  sql("INSERT INTO sessions (id, user_id, refresh_jti, expires_at) VALUES ('s1', 1, 'j1', 9999999999)");
  const before = sql("SELECT username, email, password_hash, is_staff FROM users");

  const second = createAdmin("--username", "mallory", "--email", "ADMIN@example.com", "--password", "Mallory-Passw0rd!");
  assert.equal(second.status, 1);
  assert.match(second.stderr, /the email ADMIN@example.com belongs to another account \(admin\); nothing was changed/);
  assert.deepEqual(sql("SELECT username, email, password_hash, is_staff FROM users"), before);
  assert.deepEqual(sql("SELECT revoked_at FROM sessions WHERE id = 's1'"), [{ revoked_at: null }]);
});

test("run again for an existing username: new password, staff, and its sessions ended", () => {
  sql("INSERT INTO users (username, email, password_hash) VALUES ('shopper', 'shopper@example.com', 'x')");
  sql("INSERT INTO sessions (id, user_id, refresh_jti, expires_at) SELECT 's2', id, 'j2', 9999999999 FROM users WHERE username = 'shopper'");
  const run = createAdmin("--username", "shopper", "--email", "shopper@example.com", "--password", "Shopper-Passw0rd!");
  assert.equal(run.status, 0, run.stderr);
  const [user] = sql("SELECT is_staff, password_hash FROM users WHERE username = 'shopper'");
  assert.equal(user.is_staff, 1);
  assert.notEqual(user.password_hash, "x");
  assert.notEqual(sql("SELECT revoked_at FROM sessions WHERE id = 's2'")[0].revoked_at, null);
});

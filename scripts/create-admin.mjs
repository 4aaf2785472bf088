// Creates a staff user, like Django's `createsuperuser`:
//   npm run create-admin -- --username NAME --email EMAIL --password PASS [--remote]
// It never changes an account other than the one named by --username: an email that belongs to another account is
// refused (exit 1, nothing written). Making an existing user staff or setting its password ends its sessions.
// Writes into the local D1 that `npm run dev` uses (migrations applied first), or with --remote into the deployed one.
import { execFileSync } from "node:child_process";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { adminUpsertSql, emailOwnerSql } from "./lib/admin-sql.mjs";

const { values } = parseArgs({
  options: {
    username: { type: "string" },
    email: { type: "string" },
    password: { type: "string" },
    remote: { type: "boolean", default: false },
  },
});

function fail(message) {
  console.error(`create-admin: ${message}`);
  process.exit(1);
}

const { username, email, password, remote } = values;
if (!username || !email || !password) fail("usage: npm run create-admin -- --username NAME --email EMAIL --password PASS [--remote]");
if (!/^[\w.@+-]{1,150}$/.test(username)) fail("username may contain only letters, digits and @/./+/-/_ (at most 150)");
if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) fail("enter a valid email address");
if (password.length < 8 || /^\d+$/.test(password)) fail("password must have at least 8 characters and not be entirely numeric");

// Same format and iteration count as the Worker (src/features/auth/password.ts): PBKDF2-SHA256, 100,000 iterations.
const ITERATIONS = 100_000;
const salt = randomBytes(16);
const hash = pbkdf2Sync(password, salt, ITERATIONS, 32, "sha256");
const stored = `pbkdf2_sha256$${ITERATIONS}$${salt.toString("base64")}$${hash.toString("base64")}`;

const where = remote ? "--remote" : "--local";
const run = (args) => execFileSync("wrangler", args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, CI: "true" } });
/** The result sets of one SQL command, as `wrangler d1 execute --json` prints them. */
const query = (sql) => JSON.parse(run(["d1", "execute", "DB", where, "--json", "--command", sql]).toString());

run(["d1", "migrations", "apply", "DB", where]);
let result;
try {
  [result] = query(adminUpsertSql({ username, email, passwordHash: stored }));
} catch {
  // wrangler printed D1's error above; a UNIQUE failure here is an account that took the email meanwhile.
  fail("the write was refused; nothing was changed");
}
if (!result?.success) fail("the write failed; nothing was changed");
if (result.results?.length !== 1) {
  const [owner] = query(emailOwnerSql(email))[0]?.results ?? [];
  fail(
    `the email ${email} belongs to another account${owner ? ` (${owner.username})` : ""}; nothing was changed. ` +
      `Use that account's username, or another email.`,
  );
}
console.log(`Admin ${username} is ready (${remote ? "remote" : "local"} D1); its earlier sessions, if any, are ended. Log in with POST /api/auth/login/.`);

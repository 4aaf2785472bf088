// Creates a staff user, like Django's `createsuperuser`:
//   npm run create-admin -- --username NAME --email EMAIL --password PASS [--remote]
// Writes into the local D1 that `npm run dev` uses (migrations applied first), or with --remote into the deployed one.
import { execFileSync } from "node:child_process";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";

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

const quote = (s) => `'${s.replaceAll("'", "''")}'`;
const sql =
  `INSERT INTO users (username, email, password_hash, is_staff) VALUES (${quote(username)}, ${quote(email)}, ${quote(stored)}, 1) ` +
  `ON CONFLICT DO UPDATE SET is_staff = 1, password_hash = excluded.password_hash`;

const where = remote ? "--remote" : "--local";
const run = (args) => execFileSync("wrangler", args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, CI: "true" } });
run(["d1", "migrations", "apply", "DB", where]);
run(["d1", "execute", "DB", where, "--command", sql]);
console.log(`Admin ${username} is ready (${remote ? "remote" : "local"} D1). Log in with POST /api/auth/login/.`);

// Runs before `npm run dev`: makes a fresh clone serve with no manual step.
// 1. .dev.vars from .dev.vars.example when missing (local secrets with safe defaults).
// 2. Applies the D1 migrations to the local database that `wrangler dev` uses.
import { copyFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("Created .dev.vars from .dev.vars.example");
}
execFileSync("wrangler", ["d1", "migrations", "apply", "DB", "--local"], {
  stdio: "inherit",
  env: { ...process.env, CI: "true" }, // CI=true answers wrangler's confirmation prompt
});

import { applyD1Migrations, env } from "cloudflare:test";
import { afterAll } from "vitest";
import { contractStats } from "./helpers";

// Runs before each test file: storage is isolated per file, so every file starts from an empty, migrated D1.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

afterAll(() => {
  console.log(`contract: ${contractStats.checked} responses checked against /openapi.json, ${contractStats.unchecked} to undocumented paths`);
});

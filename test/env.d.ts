/// <reference types="vite/client" />
// Vite's `?raw` imports and `import.meta.glob`: tests read README.md and src/ this way (workerd has no file system).
declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("@cloudflare/vitest-plugin").D1Migration[];
    /** Test-only (vitest.config.ts): the cost meter's KV tests. */
    METER_TEST_KV: KVNamespace;
  }
}

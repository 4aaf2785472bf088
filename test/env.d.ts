declare namespace Cloudflare {
  interface Env {
    TEST_MIGRATIONS: import("@cloudflare/vitest-plugin").D1Migration[];
  }
}

/** Vite's `?raw` imports: a file's text (tests read README.md this way; workerd has no file system). */
declare module "*?raw" {
  const text: string;
  export default text;
}

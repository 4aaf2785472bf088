import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

// Tests run inside workerd against real D1 and Durable Objects; storage is fresh for each test file.
export default defineConfig(async () => {
  const migrations = await readD1Migrations("migrations");
  return {
    plugins: [
      cloudflareTest({
        wrangler: { configPath: "./wrangler.toml" },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            JWT_SECRET: "test-jwt-secret-0123456789abcdef0123456789abcdef",
            RAZORPAY_KEY_ID: "rzp_test_key",
            RAZORPAY_KEY_SECRET: "test_key_secret",
            RAZORPAY_WEBHOOK_SECRET: "test_webhook_secret",
            RAZORPAY_API_BASE: "https://api.razorpay.test",
            // Whatever a developer's .dev.vars says: tests check the production URL rules, and retries come back
            // after about a second so a test sees the real Queue retry.
            WEBHOOKS_ALLOW_INSECURE_URLS: "0",
            WEBHOOK_RETRY_DELAYS: "1",
            // No email provider: emails are dropped (tests that check emails stub Resend through a wrapped env).
            RESEND_API_KEY: "",
            EMAIL_DEV_LOG: "0",
          },
          // The edge's hop to the data Worker (src/placement/hop.ts), here a binding to this same Worker: both sides
          // run in this isolate, against the same D1, KV and objects, with the tests' outbound fetch stubs.
          serviceBindings: { DATA: "edge-shop-api" },
          // The app keeps nothing in KV; the cost meter's tests measure KV calls on this one.
          kvNamespaces: ["METER_TEST_KV"],
          // Safety net: nothing in a test may reach the network; unstubbed outbound calls fail loudly.
          outboundService: (req: Request) => new Response(`unexpected outbound request to ${req.url}`, { status: 599 }),
        },
      }),
    ],
    test: {
      setupFiles: ["./test/setup.ts"],
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  };
});

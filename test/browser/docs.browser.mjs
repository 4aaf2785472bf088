// Browser test of /docs: the page a developer opens, in headless Chromium, against `wrangler dev` on this machine.
// Every request to another origin is aborted and counted as a failure, so the page must work with no internet.
// Run with `npm run test:browser`; Chromium comes from Debian (`apt-get install chromium`), or CHROMIUM_PATH.
// Screenshots go to test-results/ (git-ignored) for a human to look at.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { after, before, test } from "node:test";
import { launchChromium, startShop } from "./harness.mjs";

const RESULTS = "test-results"; // git-ignored: docs.png (the whole page), docs-top.png, docs-create-order.png

let shop;
let origin;
let browser;

before(async () => {
  shop = await startShop({ name: "docs", args: () => ["--log-level", "warn"] });
  origin = shop.origin;
  browser = await launchChromium(shop.scratch);
});

after(async () => {
  await browser?.close();
  shop?.stop();
});

test("/docs renders every operation from this origin alone, with no console error or failed request", async () => {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  const problems = [];
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const url = req.url();
    if (url.startsWith("data:") || new URL(url).origin === origin) return req.continue();
    problems.push(`request to another origin: ${req.method()} ${url}`);
    return req.abort("blockedbyclient");
  });
  page.on("requestfailed", (req) => problems.push(`failed request: ${req.url()} (${req.failure()?.errorText})`));
  page.on("response", (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.url()}`);
  });
  page.on("console", (msg) => {
    if (msg.type() === "error" || msg.type() === "warn") problems.push(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`uncaught: ${err.message}`));

  const res = await page.goto(`${origin}/docs`, { waitUntil: "networkidle0" });
  assert.equal(res.status(), 200);
  const csp = res.headers()["content-security-policy"] ?? "";
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);

  await page.waitForSelector(".opblock-summary", { timeout: 30_000 });
  const operations = await page.$$eval(".opblock-summary", (rows) =>
    rows.map((row) =>
      [".opblock-summary-method", ".opblock-summary-path"].map((s) => row.querySelector(s)?.textContent?.trim()).join(" "),
    ),
  );
  // U+200B: Swagger UI puts zero-width spaces after slashes so long paths can wrap.
  const shown = new Set(operations.map((op) => op.replace(/\u200b/g, "")));
  for (const op of ["POST /api/orders/create_order/", "POST /api/auth/login/", "GET /api/products/", "POST /api/payments/webhook/"]) {
    assert.ok(shown.has(op), `${op} is not rendered; rendered: ${[...shown].join(", ")}`);
  }
  const documented = await (await fetch(`${origin}/openapi.json`)).json();
  const count = Object.values(documented.paths).reduce((n, ops) => n + Object.keys(ops).length, 0);
  assert.equal(shown.size, count, "every documented operation is rendered once");

  // Opening an operation renders its request and response schemas: the part of the UI that needs the whole
  // document resolved ($refs to components included).
  const summaries = await page.$$(".opblock-summary");
  await summaries[operations.findIndex((op) => op.replace(/\u200b/g, "") === "POST /api/orders/create_order/")]
    .$eval(".opblock-summary-control", (el) => el.click());
  await page.waitForSelector(".opblock.is-open .responses-table", { timeout: 10_000 });
  await page.waitForNetworkIdle({ idleTime: 200 });

  // Try it out sends a real request to the API from the page: the CSP's connect-src must allow this origin.
  const health = summaries[operations.findIndex((op) => op === "GET /health")];
  await health.$eval(".opblock-summary-control", (el) => el.click());
  await page.waitForSelector(".opblock-get.is-open .try-out__btn");
  await page.$eval(".opblock-get.is-open .try-out__btn", (el) => el.click());
  await page.$eval(".opblock-get.is-open .execute", (el) => el.click());
  const answered = await page.waitForSelector(".opblock-get.is-open .live-responses-table tr.response .response-col_status", { timeout: 10_000 });
  assert.equal((await answered.evaluate((el) => el.textContent)).trim(), "200");

  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: `${RESULTS}/docs.png`, fullPage: true });
  await page.screenshot({ path: `${RESULTS}/docs-top.png` });
  await (await page.$(".opblock.is-open")).screenshot({ path: `${RESULTS}/docs-create-order.png` });
  assert.deepEqual(problems, [], "no request left the origin, none failed, nothing was logged as an error");
});

// Browser test of the shop console at /admin/: the scenario of issue 22, driven as an admin would, in headless Debian
// Chromium against `wrangler dev` with its own storage. On every page: axe-core finds no serious or critical
// violation, every control is reached with the Tab key, nothing is logged as an error and no request leaves the
// origin. Screenshots of each page go to test-results/ (git-ignored); scripts/console-pictures.mjs turns two of them
// into the README's pictures. Run with `npm run test:browser` (Chromium: `apt-get install chromium`, or CHROMIUM_PATH).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { pbkdf2Sync, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import { after, afterEach, before, test } from "node:test";
import { adminUpsertSql } from "../../scripts/lib/admin-sql.mjs";
import { launchChromium, startShop } from "./harness.mjs";

const RESULTS = "test-results";
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const PASSWORD = "Console-Passw0rd!";
const JWT_SECRET = "browser-test-jwt-secret-0123456789abcdef0123456789";
const CONFLICT = "changed since you opened it — reload";


const wrangler = (args) =>
  promisify(execFile)("wrangler", args, { env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" }, maxBuffer: 1 << 24 });
let shop;
let state;
let origin;
let browser;
let page;
/** What went wrong on the page: console errors, failed or foreign requests, unexpected error statuses. */
let problems = [];
/** The API reads (GET /api/...) since the page's URL last changed: a page must show its data after at most two. */
let readsSinceNavigation = [];
/** Error statuses the scenario causes on purpose (a stale ETag, a non-admin, an expired token), as `status path`. */
const expected = new Set();

/** A call to the API from Node, as a shop customer (or the test) would make it. */
async function call(method, path, { token, body, headers = {} } = {}) {
  const res = await fetch(`${origin}${path}`, {
    method,
    headers: { ...(body ? { "Content-Type": "application/json" } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}), ...headers },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

before(async () => {
  shop = await startShop({
    name: "console",
    prepare: (dir) => wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", dir]),
    args: () => ["--var", `JWT_SECRET:${JWT_SECRET}`, "--log-level", "warn"],
  });
  ({ origin, state } = shop);
  browser = await launchChromium(shop.scratch);
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.setRequestInterception(true);
  page.on("request", (req) => {
    const url = req.url();
    if (url.startsWith("data:") || url.startsWith("blob:") || new URL(url).origin === origin) return req.continue();
    problems.push(`request to another origin: ${req.method()} ${url}`);
    return req.abort("blockedbyclient");
  });
  page.on("request", (req) => pending.add(req));
  page.on("requestfinished", (req) => pending.delete(req));
  page.on("requestfailed", (req) => pending.delete(req));
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) readsSinceNavigation = [];
  });
  page.on("request", (req) => {
    if (req.method() === "GET" && new URL(req.url()).pathname.startsWith("/api/")) readsSinceNavigation.push(new URL(req.url()).pathname);
  });
  page.on("requestfailed", (req) => problems.push(`failed request: ${req.url()} (${req.failure()?.errorText})`));
  page.on("response", (res) => {
    const key = `${res.status()} ${new URL(res.url()).pathname}`;
    if (res.status() >= 400 && !expected.has(key)) problems.push(`HTTP ${key}`);
  });
  page.on("console", (msg) => {
    // Chromium logs every error status of a fetch as "Failed to load resource"; the ones the scenario causes on
    // purpose are listed in `expected` and checked through the response handler above.
    const status = /Failed to load resource: the server responded with a status of (\d+)/.exec(msg.text())?.[1];
    const url = msg.location()?.url;
    if (status && url && expected.has(`${status} ${new URL(url).pathname}`)) return;
    if (msg.type() === "error" || msg.type() === "warn") problems.push(`console.${msg.type()}: ${msg.text()}`);
  });
  page.on("pageerror", (err) => problems.push(`uncaught: ${err.message}`));
});

after(async () => {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(`${RESULTS}/console-wrangler.log`, shop?.log ?? "");
  await browser?.close();
  shop?.stop();
});

let finished = 0;
/** Requests the page has sent and not seen answered (shown when a test fails on a wait). */
const pending = new Set();
// The page as each test left it, to see what a failing step saw.
afterEach(async () => {
  mkdirSync(RESULTS, { recursive: true });
  await page?.screenshot({ path: `${RESULTS}/console-after-test-${++finished}.png` }).catch(() => undefined);
  if (pending.size) console.log(`after test ${finished}, unanswered: ${[...pending].map((r) => `${r.method()} ${r.url()}`).join(", ")}`);
});

// --- Page helpers ---------------------------------------------------------------------------------------------

const byText = (selector, text) => `${selector}::-p-text(${JSON.stringify(text)})`;

/** Waits until `text` is somewhere in the page's main content. */
async function see(text, timeout = 15_000) {
  await page.waitForFunction((t) => document.body.innerText.includes(t), { timeout }, text);
}

async function clickButton(name) {
  readsSinceNavigation = []; // an action: what the page reads after it is counted afresh
  const button = await page.waitForSelector(`::-p-aria([name=${JSON.stringify(name)}][role="button"])`, { visible: true });
  await button.click();
}

async function clickLink(name) {
  const link = await page.waitForSelector(`::-p-aria([name=${JSON.stringify(name)}][role="link"])`, { visible: true });
  await link.click();
}

/** Types into the field labelled `label` (its old text is replaced). */
async function fill(label, value, within = "body") {
  const id = await page.waitForFunction(
    (l, scope) => [...document.querySelectorAll(`${scope} label`)].find((e) => e.textContent.trim() === l)?.htmlFor || false,
    {},
    label,
    within,
  );
  const input = await page.$(`#${await id.jsonValue()}`);
  await input.click({ count: 3 });
  await input.evaluate((el) => {
    el.value = "";
  });
  await input.type(String(value));
}

async function choose(label, value) {
  const id = await page.waitForFunction(
    (l) => [...document.querySelectorAll("label")].find((e) => e.textContent.trim() === l)?.htmlFor || false,
    {},
    label,
  );
  await page.select(`#${await id.jsonValue()}`, value);
}

/** axe-core on the page as it is now (evaluated through the DevTools protocol, which the page's CSP does not govern). */
async function audit(name) {
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE);
  const { violations } = await page.evaluate(() => window.axe.run(document, { resultTypes: ["violations"] }));
  const serious = violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    serious.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`),
    [],
    `${name}: axe-core found serious or critical violations`,
  );
}

/** Every visible control of the page is reached by pressing Tab from the top, in some order. */
async function keyboardReachesEverything(name) {
  const total = await page.evaluate(() => {
    const controls = [...document.querySelectorAll("a[href], button, input, select, textarea")].filter(
      (el) => !el.disabled && el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden",
    );
    controls.forEach((el, i) => el.setAttribute("data-kb", String(i)));
    document.activeElement?.blur();
    window.scrollTo(0, 0);
    return controls.length;
  });
  const reached = new Set();
  for (let i = 0; i < total + 10 && reached.size < total; i++) {
    await page.keyboard.press("Tab");
    const index = await page.evaluate(() => document.activeElement?.getAttribute("data-kb"));
    if (index !== null && index !== undefined) reached.add(index);
  }
  const missed = await page.evaluate(
    (seen) =>
      [...document.querySelectorAll("[data-kb]")].filter((el) => !seen.includes(el.getAttribute("data-kb"))).map((el) => el.outerHTML.slice(0, 120)),
    [...reached],
  );
  assert.deepEqual(missed, [], `${name}: controls the Tab key never reaches`);
}

/** The checks every page gets, and its screenshot. */
async function checkPage(name) {
  await page.waitForNetworkIdle({ idleTime: 300 });
  assert.ok(readsSinceNavigation.length <= 2, `${name}: ${readsSinceNavigation.length} API reads (${readsSinceNavigation.join(", ")})`);
  await audit(name);
  await keyboardReachesEverything(name);
  mkdirSync(RESULTS, { recursive: true });
  await page.screenshot({ path: `${RESULTS}/console-${name}.png`, fullPage: true });
  await page.screenshot({ path: `${RESULTS}/console-${name}-top.png` });
  const found = problems;
  problems = [];
  assert.deepEqual(found, [], `${name}: no console error, no failed or foreign request`);
}

let loads = 0;
/** A fresh load of the console at `hash` (a new query string, so the browser never treats it as the same page). */
const open = async (hash) => {
  await page.waitForNetworkIdle({ idleTime: 300 }); // what the last action started has finished
  await page.goto(`${origin}/admin/?load=${++loads}${hash}`, { waitUntil: "networkidle0" });
};

// --- The scenario ------------------------------------------------------------------------------------------------

const run = `${Date.now().toString(36)}`;
const admin = { username: `admin${run}`, email: `admin${run}@shop.test` };
const customer = { username: `buyer${run}`, email: `buyer${run}@shop.test` };
const categoryName = `Pianos ${run}`;
const productName = `Grand piano ${run}`;
let productId;
let orderNumber;
let orderId;
let customerToken;
/** The admin's own API session, for reads the test checks (an anonymous product read may be served from cache). */
let adminToken;

/** Registers the customer and buys `quantity` of the product through the API: a sale the console did not make. */
async function buyThroughApi(quantity) {
  if (!customerToken) {
    const registered = await call("POST", "/api/auth/register/", {
      body: { username: customer.username, email: customer.email, password: PASSWORD, password2: PASSWORD, first_name: "Asha", last_name: "Rao" },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    customerToken = registered.body.tokens.access;
  }
  const added = await call("POST", "/api/cart/add/", { token: customerToken, body: { product_id: productId, quantity } });
  assert.equal(added.status, 200, JSON.stringify(added.body));
  const order = await call("POST", "/api/orders/create_order/", {
    token: customerToken,
    body: { shipping_address: "12 MG Road, Bengaluru 560001" },
    headers: { "Idempotency-Key": crypto.randomUUID() },
  });
  assert.equal(order.status, 201, JSON.stringify(order.body));
  return order.body;
}

test("the console is served at /admin/ with its CSP, and the admin made by the test signs in", async () => {
  const salt = randomBytes(16);
  const hash = pbkdf2Sync(PASSWORD, salt, 100_000, 32, "sha256");
  const passwordHash = `pbkdf2_sha256$100000$${salt.toString("base64")}$${hash.toString("base64")}`;
  await wrangler(["d1", "execute", "DB", "--local", "--persist-to", state, "--command", adminUpsertSql({ ...admin, passwordHash })]);

  adminToken = (await call("POST", "/api/auth/login/", { body: { username: admin.username, password: PASSWORD } })).body.access;
  const res = await page.goto(`${origin}/admin/`, { waitUntil: "networkidle0" });
  assert.equal(res.status(), 200);
  const csp = res.headers()["content-security-policy"] ?? "";
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  await page.waitForSelector(byText("button", "Sign in"));
  await checkPage("sign-in");

  await fill("Username", admin.username);
  await fill("Password", PASSWORD);
  await clickButton("Sign in");
  await see("Revenue");
  for (const name of ["Dashboard", "Products", "Categories", "Orders", "Low stock"]) {
    assert.ok(await page.$(`::-p-aria([name=${JSON.stringify(name)}][role="link"])`), `navigation link ${name}`);
  }
  assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing in localStorage");
});

test("creates a category and a product, finds it with search, restocks it", async () => {
  await clickLink("Categories");
  await see("New category");
  await fill("New category", categoryName);
  await clickButton("Create category");
  await see(`Created ${categoryName}.`);
  await checkPage("categories");

  await clickLink("Products");
  await clickLink("New product");
  await see("Create product");
  await fill("Name", productName);
  expected.add("400 /api/products/");
  await fill("Price (₹)", "185000.005");
  await fill("Stock", "3");
  await page.$eval("#product-category", (select, name) => {
    select.value = [...select.options].find((o) => o.textContent === name).value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }, categoryName);
  await clickButton("Create product");
  // the API's field error shows beside its field, not as a blank page
  await page.waitForSelector("#product-price-error");
  assert.match(await page.$eval("#product-price-error", (e) => e.textContent), /no more than 2 decimal places/);
  assert.equal(await page.$eval("#product-name", (e) => e.value), productName, "what was typed stays");
  await fill("Price (₹)", "185000.00");
  await clickButton("Create product");
  await page.waitForFunction(() => /#\/products\/\d+$/.test(location.hash));
  productId = Number(await page.evaluate(() => location.hash.split("/").pop()));

  await clickLink("Products");
  await fill("Search", `piano ${run}`);
  await clickButton("Find");
  await page.waitForFunction((id) => document.querySelector(`[data-stock="${id}"]`), {}, productId);
  assert.equal(await page.$eval(`[data-stock="${productId}"]`, (e) => e.textContent), "3");
  await checkPage("products");

  await clickLink(productName);
  await see("Save product");
  await fill("Stock", "20");
  await clickButton("Save product");
  await see("Saved.");
  assert.equal((await call("GET", `/api/products/${productId}/`, { token: adminToken })).body.stock, 20);
  await checkPage("product");
});

test("a stock edit after a sale made meanwhile shows the conflict, and the sale stands", async () => {
  await open(`#/products/${productId}`);
  await see("Save product");
  const order = await buyThroughApi(1);
  orderNumber = order.order_number;
  orderId = order.id;
  expected.add(`412 /api/products/${productId}/`);
  await fill("Stock", "50");
  await clickButton("Save product");
  await see(CONFLICT);
  assert.equal((await call("GET", `/api/products/${productId}/`, { token: adminToken })).body.stock, 19, "the API keeps what the sale left");
  await clickButton("Reload the product");
  await page.waitForFunction(() => document.querySelector("#product-stock")?.value === "19");
});

test("an order placed through the API appears under Orders; its status changes; cancelling restores its stock", async () => {
  await clickLink("Orders");
  await fill("Order number, username or email", customer.email);
  await clickButton("Find");
  await page.waitForSelector(`::-p-aria([name=${JSON.stringify(orderNumber)}][role="link"])`);
  await checkPage("orders");

  await clickLink(orderNumber);
  await see("Shipping address");
  await see("12 MG Road, Bengaluru 560001");
  // an unpaid order cannot ship: the API's field error shows beside the status
  expected.add(`400 /api/orders/${orderId}/update_status/`);
  await choose("New status", "shipped");
  await clickButton("Update status");
  await page.waitForSelector("#order-new-status-error");
  assert.match(await page.$eval("#order-new-status-error", (e) => e.textContent), /payment is captured/);
  // (not "paid": cancelling a paid order asks Razorpay for a refund, and this test has no network)
  await choose("New status", "payment_failed");
  await clickButton("Update status");
  await see("Status changed to payment failed.");
  assert.equal((await call("GET", `/api/orders/${orderId}/`, { token: customerToken })).body.status, "payment_failed");

  await clickButton("Cancel order");
  await see(`Cancel order ${orderNumber}?`);
  await checkPage("order");
  await clickButton("Yes, cancel the order");
  await see("The order is cancelled; its stock is back.");

  // The list shows the D1 stock projection, which the inventory writes behind within about a second (README "How
  // stock stays right"): reload, as an admin would, until the units are back.
  const deadline = Date.now() + 15_000;
  for (;;) {
    await open(`#/products?search=${encodeURIComponent(`piano ${run}`)}`);
    const shown = await page.$eval(`[data-stock="${productId}"]`, (e) => e.textContent).catch(() => null);
    if (shown === "20") break;
    assert.ok(Date.now() < deadline, `the Products page still shows ${shown} units 15 s after the cancel`);
    await new Promise((r) => setTimeout(r, 500));
  }
});

test("Low stock lists the product under its own threshold and restocks it with If-Match", async () => {
  const loaded = await call("GET", `/api/products/${productId}/`, { token: adminToken });
  const set = await call("PATCH", `/api/products/${productId}/`, {
    token: adminToken,
    body: { low_stock_threshold: 25 },
    headers: { "If-Match": loaded.headers.get("ETag") },
  });
  assert.equal(set.status, 200);
  await clickLink("Low stock");
  await clickButton(`Restock ${productName}`);
  await see("in stock when loaded");
  await checkPage("low-stock");
  await fill("New stock", "40");
  await clickButton("Save stock");
  await see(`${productName}: 40 in stock.`);
  assert.equal((await call("GET", `/api/products/${productId}/`, { token: adminToken })).body.stock, 40);
});

test("the Dashboard shows revenue and draws the sales chart", async () => {
  // A paid order for the figures: the payment is recorded as Razorpay's webhook would (no network here).
  const paid = await buyThroughApi(2);
  await wrangler(["d1", "execute", "DB", "--local", "--persist-to", state, "--command",
    `UPDATE orders SET status = 'paid', payment_status = 'success' WHERE id = ${paid.id}`]);
  await clickLink("Dashboard");
  await see("Revenue");
  await page.waitForSelector(".chart canvas");
  const revenue = await page.$$eval("dt", (dts) => dts.find((d) => d.textContent === "Revenue").nextElementSibling.textContent);
  const figures = await call("GET", "/api/products/analytics/", { token: adminToken });
  const rupees = new Intl.NumberFormat("en-IN", { style: "currency", currency: "INR" }).format(Number(figures.body.total_revenue));
  assert.ok(Number(figures.body.total_revenue) >= 370_000, figures.body.total_revenue);
  assert.equal(revenue, rupees, "the revenue the API reports");
  await checkPage("dashboard");
});

test("an expired access token is refreshed once; a refused refresh returns to sign-in", async () => {
  expected.add("401 /api/products/analytics/");
  expected.add("401 /api/orders/sales_report/");
  // An access token the API no longer takes (as an expired one): its signature broken, its claims kept.
  const stale = await page.evaluate(() => {
    const token = sessionStorage.getItem("console.access");
    const broken = `${token.slice(0, -4)}${token.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;
    sessionStorage.setItem("console.access", broken);
    return broken;
  });
  await open("#/");
  await see("Revenue");
  assert.notEqual(await page.evaluate(() => sessionStorage.getItem("console.access")), stale, "a new access token");
  expected.add("401 /api/auth/token/refresh/");
  await page.evaluate((token) => {
    sessionStorage.setItem("console.access", token);
    sessionStorage.setItem("console.refresh", "refused.token.value");
  }, stale);
  await open("#/");
  await see("Your session has ended. Sign in again.");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("console.refresh")), null);
});

test("a customer who signs in is told the account is not an admin, and sees no data", async () => {
  await fill("Username", customer.username);
  await fill("Password", PASSWORD);
  await clickButton("Sign in");
  await see("This account is not an admin");
  assert.equal(await page.$("::-p-aria([name=\"Dashboard\"][role=\"link\"])"), null);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test("Sign out ends the session: its refresh token is refused afterwards", async () => {
  await fill("Username", admin.username);
  await fill("Password", PASSWORD);
  await clickButton("Sign in");
  await see("Revenue");
  const refresh = await page.evaluate(() => sessionStorage.getItem("console.refresh"));
  assert.ok(refresh);
  await clickButton("Sign out");
  await see("You are signed out.");
  const refused = await call("POST", "/api/auth/token/refresh/", { body: { refresh } });
  assert.equal(refused.status, 401);
  assert.deepEqual(problems, []);
});

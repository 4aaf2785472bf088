// Fills the local D1 with a realistic demo shop:
//   npm run seed -- --products N [--orders N] [--reset] [--persist-to DIR]
// - nested categories (8 departments, 3-4 subcategories each), N products with varied names, descriptions, prices
//   and stock; stock goes straight into the D1 projection (each product's inventory Durable Object seeds itself
//   from it on first use);
// - with --orders N: 50 demo users (demo1..demo50, password "Demo-Passw0rd!") and N orders over the last 90 days,
//   1-3 items each with price snapshots, statuses consistent with payment statuses, and payments for paid ones;
// - --reset first deletes catalogue, carts, orders, payments and demo users. Ids keep counting up (sqlite_sequence
//   is kept), so a product never reuses the id of an old one whose inventory object still holds stale stock.
// SQL is written in chunks to a temp file and applied with `wrangler d1 execute --local --file` (multi-row INSERTs).
// The data is deterministic (seeded PRNG) so benchmarks compare like with like.
import { execFileSync } from "node:child_process";
import { pbkdf2Sync } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opts } = parseArgs({
  options: {
    products: { type: "string", default: "0" },
    orders: { type: "string", default: "0" },
    reset: { type: "boolean", default: false },
    "persist-to": { type: "string" },
  },
});
const count = (name) => {
  const n = Number(opts[name]);
  if (!Number.isSafeInteger(n) || n < 0) fail(`--${name} must be a non-negative integer`);
  return n;
};
const PRODUCTS = count("products");
const ORDERS = count("orders");
if (!PRODUCTS && !ORDERS && !opts.reset) fail("usage: npm run seed -- --products N [--orders N] [--reset] [--persist-to DIR]");

function fail(message) {
  console.error(`seed: ${message}`);
  process.exit(1);
}

// ---- wrangler ----------------------------------------------------------------------------------------------

const ROOT = new URL("..", import.meta.url).pathname;
// wrangler's own entry run by this same node (wrangler needs Node 22; `npm run seed` provides it).
const WRANGLER_JS = join(ROOT, "node_modules", "wrangler", "bin", "wrangler.js");
if (!existsSync(WRANGLER_JS)) fail("wrangler is not installed: run npm install");
const LOCAL = ["--local", ...(opts["persist-to"] ? ["--persist-to", opts["persist-to"]] : [])];
const tmp = mkdtempSync(join(tmpdir(), "edge-shop-seed-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

function wrangler(args) {
  try {
    return execFileSync(process.execPath, [WRANGLER_JS, ...args], {
      cwd: ROOT,
      env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 256 << 20,
    }).toString();
  } catch (err) {
    fail(`wrangler ${args.slice(0, 3).join(" ")} failed:\n${String(err.stderr ?? "").slice(-2000)}${String(err.stdout ?? "").slice(-2000)}`);
  }
}

/** Applies SQL statements from a temp file. */
function applySql(statements) {
  const file = join(tmp, "chunk.sql");
  writeFileSync(file, statements.join("\n"));
  wrangler(["d1", "execute", "DB", ...LOCAL, "--file", file]);
}

/** Rows of each of several SELECTs, in one wrangler call (each call costs about 1.5 s of start-up). */
function query(statements) {
  const out = wrangler(["d1", "execute", "DB", ...LOCAL, "--json", "--command", statements.join("; ")]);
  return JSON.parse(out.slice(out.indexOf("["))).map((result) => result.results);
}

const q = (value) => (value === null ? "NULL" : typeof value === "number" ? String(value) : `'${String(value).replaceAll("'", "''")}'`);

/** Multi-row INSERTs of at most ~90 KB each (D1 caps a statement at 100 KB). */
function inserts(table, columns, rows) {
  const statements = [];
  const head = `INSERT INTO ${table} (${columns.join(", ")}) VALUES\n`;
  let batch = [];
  let size = head.length;
  for (const row of rows) {
    const text = `(${row.map(q).join(", ")})`;
    if (batch.length && size + text.length > 90_000) {
      statements.push(`${head}${batch.join(",\n")};`);
      batch = [];
      size = head.length;
    }
    batch.push(text);
    size += text.length + 2;
  }
  if (batch.length) statements.push(`${head}${batch.join(",\n")};`);
  return statements;
}

// ---- progress ----------------------------------------------------------------------------------------------

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
function progress(label, done, total) {
  const line = `${label}: ${done.toLocaleString("en")}/${total.toLocaleString("en")} (${Math.round((done / total) * 100)}%, ${elapsed()})`;
  if (process.stdout.isTTY) process.stdout.write(`\r${line}${done === total ? "\n" : ""}`);
  else console.log(line);
}

// ---- deterministic randomness ------------------------------------------------------------------------------

let state = 0x5eed;
/** mulberry32: a small, fast PRNG, so the same arguments always give the same shop. */
function random() {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];
const between = (min, max) => min + Math.floor(random() * (max - min + 1));
const hex = (length) => Array.from({ length }, () => "0123456789ABCDEF"[Math.floor(random() * 16)]).join("");
const alnum = (length) => Array.from({ length }, () => pick("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")).join("");

// ---- the catalogue -----------------------------------------------------------------------------------------

/** Departments -> subcategories -> what they sell and its price range in rupees. */
const DEPARTMENTS = {
  Electronics: {
    "Mobile Phones": { nouns: ["Smartphone", "Android Phone", "Feature Phone", "5G Phone"], price: [6999, 129999] },
    Laptops: { nouns: ["Laptop", "Ultrabook", "Gaming Laptop", "Chromebook"], price: [24999, 249999] },
    Audio: { nouns: ["Headphones", "Earbuds", "Bluetooth Speaker", "Soundbar"], price: [799, 49999] },
    Cameras: { nouns: ["Mirrorless Camera", "Action Camera", "Camera Lens", "Tripod"], price: [1499, 189999] },
  },
  "Home & Kitchen": {
    Cookware: { nouns: ["Frying Pan", "Pressure Cooker", "Kadai", "Saucepan"], price: [499, 8999] },
    Appliances: { nouns: ["Mixer Grinder", "Air Fryer", "Electric Kettle", "Induction Cooktop"], price: [999, 24999] },
    Furniture: { nouns: ["Office Chair", "Bookshelf", "Coffee Table", "Study Desk"], price: [1999, 49999] },
  },
  Fashion: {
    Men: { nouns: ["Cotton Shirt", "Denim Jeans", "Kurta", "Polo T-Shirt"], price: [399, 4999] },
    Women: { nouns: ["Saree", "Kurti", "Handbag", "Maxi Dress"], price: [499, 14999] },
    Footwear: { nouns: ["Running Shoes", "Sneakers", "Sandals", "Formal Shoes"], price: [599, 12999] },
  },
  Sports: {
    Fitness: { nouns: ["Yoga Mat", "Dumbbell Set", "Resistance Band", "Skipping Rope"], price: [299, 14999] },
    Cricket: { nouns: ["Cricket Bat", "Cricket Ball", "Batting Gloves", "Helmet"], price: [349, 29999] },
    Cycling: { nouns: ["Mountain Bike", "Cycle Helmet", "Bike Light", "Water Bottle"], price: [249, 59999] },
  },
  Books: {
    Fiction: { nouns: ["Novel", "Short Stories", "Thriller", "Fantasy Saga"], price: [149, 999] },
    "Non-fiction": { nouns: ["Biography", "History Book", "Cookbook", "Self-help Guide"], price: [199, 1499] },
    Children: { nouns: ["Picture Book", "Activity Book", "Comic", "Storybook"], price: [99, 799] },
  },
  "Beauty & Health": {
    Skincare: { nouns: ["Face Wash", "Moisturiser", "Sunscreen", "Serum"], price: [149, 2999] },
    Wellness: { nouns: ["Protein Powder", "Multivitamin", "Green Tea", "Herbal Supplement"], price: [199, 4999] },
  },
  Toys: {
    "Building Sets": { nouns: ["Building Blocks", "Construction Kit", "Marble Run"], price: [299, 9999] },
    "Board Games": { nouns: ["Board Game", "Jigsaw Puzzle", "Card Game", "Chess Set"], price: [199, 3999] },
  },
  Grocery: {
    Staples: { nouns: ["Basmati Rice", "Atta", "Toor Dal", "Cold-pressed Oil"], price: [89, 1999] },
    Beverages: { nouns: ["Filter Coffee", "Assam Tea", "Fruit Juice", "Energy Drink"], price: [49, 1299] },
  },
};
const BRANDS = ["Aurora", "Bharat", "Cosmo", "Dhruv", "Everest", "Falcon", "Ganga", "Helix", "Indigo", "Jupiter", "Kaveri", "Lotus",
  "Monsoon", "Nimbus", "Orion", "Pragati", "Quasar", "Rudra", "Saffron", "Tejas", "Urban", "Vayu", "Zenith", "Arka"];
const ADJECTIVES = ["Classic", "Premium", "Compact", "Wireless", "Smart", "Portable", "Organic", "Vintage", "Deluxe", "Eco", "Ultra",
  "Pro", "Lite", "Heavy-duty", "Handcrafted", "Foldable", "Ergonomic", "Waterproof", "Lightweight", "Essential"];
const MATERIALS = ["stainless steel", "organic cotton", "bamboo", "full-grain leather", "carbon fibre", "ceramic", "tempered glass",
  "merino wool", "recycled plastic", "teak wood", "aluminium", "silicone", "khadi", "jute"];
const COLOURS = ["midnight black", "pearl white", "ocean blue", "forest green", "saffron orange", "ruby red", "graphite grey",
  "rose gold", "sand beige", "indigo"];
const FEATURES = ["a two-year warranty", "free installation", "a travel pouch", "fast charging", "an easy-clean finish",
  "a lifetime guarantee", "BIS certification", "a 30-day return window", "spare parts included", "energy-star rating"];
const USES = ["everyday use", "gifting", "travel", "the office", "students", "professionals", "small homes", "festive season",
  "outdoor adventures", "beginners"];

function categoryRows() {
  const rows = [];
  for (const [department, subcategories] of Object.entries(DEPARTMENTS)) {
    rows.push({ name: department, description: `${department}: ${Object.keys(subcategories).join(", ")}.`, parent: null });
    for (const sub of Object.keys(subcategories)) rows.push({ name: sub, description: `${sub} in ${department}.`, parent: department });
  }
  return rows;
}

const slugify = (text) => text.toLowerCase().replace(/&/g, "").replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");

/**
 * The category tree: existing seeded categories (by slug, from an earlier run) are reused, missing ones get
 * explicit ids after `lastId`. Returns the INSERTs and the leaf categories with their ids.
 */
function planCategories(existing, lastId) {
  const ids = new Map(existing.map((r) => [r.slug, r.id]));
  const rows = [];
  for (const c of categoryRows()) {
    if (ids.has(slugify(c.name))) continue;
    const id = ++lastId;
    ids.set(slugify(c.name), id);
    rows.push([id, c.name, slugify(c.name), c.description, c.parent ? ids.get(slugify(c.parent)) : null]);
  }
  const leaves = [];
  for (const [department, subcategories] of Object.entries(DEPARTMENTS)) {
    for (const [sub, spec] of Object.entries(subcategories)) leaves.push({ id: ids.get(slugify(sub)), department, ...spec });
  }
  return { statements: inserts("categories", ["id", "name", "slug", "description", "parent_id"], rows), created: rows.length, leaves };
}

/** A price in paise in [min, max] rupees, log-uniform, ending in 9 or 99 the way shops price. */
function pricePaise([min, max]) {
  const rupees = Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min)));
  const rounded = rupees < 1000 ? Math.max(min, Math.round(rupees / 10) * 10 - 1) : Math.round(rupees / 100) * 100 - 1;
  return rounded * 100;
}

function stockLevel() {
  const r = random();
  if (r < 0.05) return 0; // sold out
  if (r < 0.15) return between(1, 9); // low stock
  return between(10, 500);
}

function productRow(id, leaf, createdAt) {
  const brand = pick(BRANDS);
  const noun = pick(leaf.nouns);
  const adjective = pick(ADJECTIVES);
  const model = `${pick("ABCDEFGHJKLMNPRSTXZ")}${between(10, 999)}`;
  const name = `${brand} ${adjective} ${noun} ${model}`;
  const description =
    `The ${brand} ${noun.toLowerCase()} ${model} in ${pick(COLOURS)}, made with ${pick(MATERIALS)}. ` +
    `${adjective} design for ${pick(USES)}, with ${pick(FEATURES)}. Part of our ${leaf.department} range.`;
  const imageUrl = `https://picsum.photos/seed/${id}/600/600`;
  const active = random() < 0.97 ? 1 : 0;
  return [id, leaf.id, name, `${slugify(name)}-${id}`, description, pricePaise(leaf.price), stockLevel(), imageUrl, active, createdAt, createdAt];
}

const PRODUCT_COLUMNS = ["id", "category_id", "name", "slug", "description", "price_paise", "stock", "image_url", "is_active", "created_at", "updated_at"];
const CHUNK = 25_000; // rows per wrangler call: large enough to amortise its start-up, small enough for steady progress

/**
 * Inserts `n` products from `firstId` on, created over the last year in id order, after the `before` statements;
 * returns [id, price] of the active ones.
 */
function seedProducts(n, firstId, leaves, before) {
  const now = Date.now();
  const span = 365 * 24 * 3600 * 1000;
  const sellable = [];
  for (let done = 0; done < n; ) {
    const size = Math.min(CHUNK, n - done);
    const rows = [];
    for (let i = 0; i < size; i++) {
      const index = done + i;
      const createdAt = new Date(now - span + Math.floor((span * (index + 1)) / (n + 1))).toISOString();
      const row = productRow(firstId + index, pick(leaves), createdAt);
      if (row[8]) sellable.push([row[0], row[5]]);
      rows.push(row);
    }
    applySql([...(done === 0 ? before : []), ...inserts("products", PRODUCT_COLUMNS, rows)]);
    done += size;
    progress("products", done, n);
  }
  return sellable;
}

// ---- users, orders, payments -------------------------------------------------------------------------------

const DEMO_USERS = 50;
const DEMO_PASSWORD = "Demo-Passw0rd!";
const FIRST_NAMES = ["Aarav", "Diya", "Ishaan", "Ananya", "Vihaan", "Saanvi", "Arjun", "Meera", "Kabir", "Priya"];
const LAST_NAMES = ["Sharma", "Iyer", "Patel", "Reddy", "Khan", "Das", "Nair", "Singh", "Gupta", "Banerjee"];
const CITIES = [["Mumbai", "Maharashtra", "400001"], ["Bengaluru", "Karnataka", "560001"], ["Chennai", "Tamil Nadu", "600001"],
  ["Kolkata", "West Bengal", "700001"], ["New Delhi", "Delhi", "110001"], ["Hyderabad", "Telangana", "500001"], ["Pune", "Maharashtra", "411001"]];

/** Demo users demo1..demo50: existing ones (earlier runs) are reused, missing ones get ids after `lastId`. */
function planUsers(existing, lastId) {
  // One hash for all demo users (same password): PBKDF2 at 100,000 iterations, the Worker's own format.
  const salt = Buffer.from("edge-shop-demo-salt");
  const hash = pbkdf2Sync(DEMO_PASSWORD, salt, 100_000, 32, "sha256");
  const stored = `pbkdf2_sha256$100000$${salt.toString("base64")}$${hash.toString("base64")}`;
  const ids = new Map(existing.map((r) => [r.username.toLowerCase(), r.id]));
  const rows = [];
  for (let i = 1; i <= DEMO_USERS; i++) {
    if (ids.has(`demo${i}`)) continue;
    const id = ++lastId;
    ids.set(`demo${i}`, id);
    rows.push([id, `demo${i}`, `demo${i}@example.com`, stored, FIRST_NAMES[(i - 1) % 10], LAST_NAMES[Math.floor((i - 1) / 5) % 10]]);
  }
  return { statements: inserts("users", ["id", "username", "email", "password_hash", "first_name", "last_name"], rows), ids: [...ids.values()] };
}

/** status, payment_status and the payments row status (null: no payment), with their shares of all orders. */
const OUTCOMES = [
  [0.14, "pending", "pending", null],
  [0.05, "payment_failed", "failed", "failed"],
  [0.05, "cancelled", "pending", null],
  [0.03, "cancelled", "refunded", "refunded"],
  [0.2, "paid", "success", "success"],
  [0.15, "processing", "success", "success"],
  [0.15, "shipped", "success", "success"],
  [0.23, "delivered", "success", "success"],
];
function outcome() {
  let r = random();
  for (const o of OUTCOMES) if ((r -= o[0]) < 0) return o;
  return OUTCOMES[OUTCOMES.length - 1];
}

/** Inserts `n` orders from `firstId` on, spread over the last 90 days in id order, after the `before` statements. */
function seedOrders(n, firstId, userIds, sellable, before) {
  const now = Date.now();
  const span = 90 * 24 * 3600 * 1000;
  const times = Array.from({ length: n }, () => now - Math.floor(random() * span)).sort((a, b) => a - b);
  for (let done = 0; done < n; ) {
    const size = Math.min(CHUNK, n - done);
    const orders = [];
    const items = [];
    const payments = [];
    for (let i = 0; i < size; i++) {
      const id = firstId + done + i;
      const createdAt = new Date(times[done + i]).toISOString();
      const updatedAt = new Date(Math.min(now, times[done + i] + between(0, 3 * 24 * 3600) * 1000)).toISOString();
      // Random-looking but unique: 6 random hex digits, then the order id in hex.
      const orderNumber = `ORD-${hex(6)}${id.toString(16).toUpperCase().padStart(6, "0").slice(-6)}`;
      let total = 0;
      const lines = new Set();
      for (let k = between(1, 3); k > 0; k--) {
        const [productId, price] = sellable[Math.floor(sellable.length * random() ** 3)]; // a few best sellers, a long tail
        if (lines.has(productId)) continue;
        lines.add(productId);
        const quantity = random() < 0.8 ? 1 : between(2, 3);
        total += price * quantity;
        items.push([id, productId, quantity, price, price * quantity]);
      }
      const [, status, paymentStatus, paymentRow] = outcome();
      const [city, region, pin] = pick(CITIES);
      const address = `${between(1, 999)} ${pick(["MG Road", "Park Street", "Linking Road", "Anna Salai", "Brigade Road"])}, ${city}, ${region} ${pin}, India`;
      // Seeded orders hold no stock in the inventory objects; a seeded cancel counts as already restocked.
      orders.push([id, pick(userIds), orderNumber, orderNumber, total, status, paymentStatus, address, status === "cancelled" ? updatedAt : null, createdAt, updatedAt]);
      if (paymentRow) {
        const rzpOrder = `order_${alnum(14)}${id.toString(36)}`;
        const rzpPayment = `pay_${alnum(14)}${id.toString(36)}`;
        payments.push([id, rzpOrder, rzpPayment, paymentRow === "failed" ? null : hex(64).toLowerCase(), total, "INR", paymentRow, createdAt, updatedAt]);
      }
    }
    applySql([
      ...(done === 0 ? before : []),
      ...inserts("orders", ["id", "user_id", "order_number", "hold_key", "total_paise", "status", "payment_status", "shipping_address", "restocked_at", "created_at", "updated_at"], orders),
      ...inserts("order_items", ["order_id", "product_id", "quantity", "price_paise", "subtotal_paise"], items),
      ...inserts("payments", ["order_id", "razorpay_order_id", "razorpay_payment_id", "razorpay_signature", "amount_paise", "currency", "status", "created_at", "updated_at"], payments),
      // Seeded orders are history: the order.created events their inserts wrote (migration 0008) announce nothing.
      `DELETE FROM events WHERE order_id BETWEEN ${firstId + done} AND ${firstId + done + size - 1};`,
    ]);
    done += size;
    progress("orders", done, n);
  }
}

// ---- main --------------------------------------------------------------------------------------------------

const RESET = [
  "DELETE FROM webhook_deliveries;",
  "DELETE FROM events;",
  "DELETE FROM payments;",
  "DELETE FROM order_items;",
  "DELETE FROM orders;",
  "DELETE FROM cart_items;",
  "DELETE FROM carts;",
  "DELETE FROM idempotency_keys;",
  "DELETE FROM webhook_events;",
  "DELETE FROM products;",
  "DELETE FROM categories;",
  "DELETE FROM users WHERE username GLOB 'demo[0-9]*' AND is_staff = 0;",
];

wrangler(["d1", "migrations", "apply", "DB", ...LOCAL]);
console.log(`migrations applied (${elapsed()})`);
if (opts.reset) {
  applySql(RESET);
  console.log(`data wiped (${elapsed()})`);
}

const [sequences, seededCategories, demoUsers, recentProducts] = query([
  "SELECT name, seq FROM sqlite_sequence",
  `SELECT id, slug FROM categories WHERE slug IN (${categoryRows().map((c) => q(slugify(c.name))).join(", ")})`,
  "SELECT id, username FROM users WHERE username GLOB 'demo[0-9]*'",
  "SELECT id, price_paise FROM products WHERE is_active = 1 ORDER BY id DESC LIMIT 10000",
]);
const lastId = (table) => sequences.find((r) => r.name === table)?.seq ?? 0;

let sellable = recentProducts.map((r) => [r.id, r.price_paise]);
if (PRODUCTS) {
  const categories = planCategories(seededCategories, lastId("categories"));
  console.log(`categories: ${categoryRows().length} in the tree, ${categories.created} new`);
  sellable = seedProducts(PRODUCTS, lastId("products") + 1, categories.leaves, categories.statements);
}
if (ORDERS) {
  if (!sellable.length) fail("no active products to order: run with --products N first (or together)");
  const users = planUsers(demoUsers, lastId("users"));
  console.log(`demo users: demo1..demo${DEMO_USERS}, password "${DEMO_PASSWORD}"`);
  seedOrders(ORDERS, lastId("orders") + 1, users.ids, sellable, users.statements);
}
console.log(`seed done in ${elapsed()}`);

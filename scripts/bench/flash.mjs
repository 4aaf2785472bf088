// The flash-sale phase of `npm run bench` (issue 25). Run alone: BENCH_FLASH_ONLY=1 npm run bench.
//
// Three storms in one run, side by side, each CHECKOUTS checkouts by as many distinct buyers over CONNECTIONS
// connections, stock a tenth of the checkouts:
//   1. one product, its stock in 1 inventory object;
//   2. the same product shape with its stock over BENCH_FLASH_SHARDS (8) objects;
//   3. the same storm spread over 100 products (1 object each): the reference, where no object is hot.
// Buyers (users, sessions, carts) are written straight into D1 before the Worker starts and their access tokens are
// signed here with the local JWT_SECRET: registering thousands of users through PBKDF2 would take longer than the
// storms. Reports per storm: orders created (must equal the stock), 5xx (must be 0), req/s, p50, p99, and the D1
// projection after its stated lag (must be 0).
//
// Knobs: BENCH_FLASH_CHECKOUTS=6000 (a multiple of 1000)  BENCH_FLASH_CONNECTIONS=500  BENCH_FLASH_SHARDS=8
import { createHmac, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { api, measure } from "./load.mjs";
import { d1Execute, freshState, removeState, ROOT, startWorker } from "./worker.mjs";

export const FLASH_CHECKOUTS = Math.max(1000, Math.round(Number(process.env.BENCH_FLASH_CHECKOUTS ?? 6000) / 1000) * 1000);
const CONNECTIONS = Number(process.env.BENCH_FLASH_CONNECTIONS ?? 500);
const SHARDS = Number(process.env.BENCH_FLASH_SHARDS ?? 8);
const SPREAD_PRODUCTS = 100;
/** The projection's stated lag (PROJECTION_FLUSH_MS, 1 s) with room for a loaded machine. */
const PROJECTION_WAIT_MS = 3_000;

const b64url = (value) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

/** An HS256 access token as src/features/auth/tokens.ts issues it. */
function accessToken(secret, userId, sid, staff = false) {
  const iat = Math.floor(Date.now() / 1000);
  const head = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url({ token_type: "access", user_id: userId, sid, jti: randomBytes(16).toString("hex"), iat, exp: iat + 3600, stf: staff })}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

function jwtSecret() {
  const vars = readFileSync(join(ROOT, ".dev.vars"), "utf8");
  const secret = /^JWT_SECRET=(.*)$/m.exec(vars)?.[1]?.trim();
  if (!secret) throw new Error(".dev.vars has no JWT_SECRET");
  return secret;
}

/**
 * The storms' catalogue and crowd, as SQL: product 1 (1 shard), product 2 (sharded after start, through the admin
 * API), products 3..102 (the spread storm); buyers 1..3C with a live session and one cart line each.
 */
function seedSql(checkouts) {
  const stock = checkouts / 10;
  const users = checkouts * 3;
  const far = Math.floor(Date.now() / 1000) + 86_400;
  return `
INSERT INTO categories (id, name, slug) VALUES (1, 'Flash', 'flash');
INSERT INTO products (id, category_id, name, slug, price_paise, stock) VALUES
  (1, 1, 'Flash One Shard', 'flash-one-shard', 49900, ${stock}),
  (2, 1, 'Flash Sharded', 'flash-sharded', 49900, ${stock});
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${SPREAD_PRODUCTS})
INSERT INTO products (id, category_id, name, slug, price_paise, stock) SELECT 2 + i, 1, 'Flash Spread ' || i, 'flash-spread-' || i, 49900, ${stock / SPREAD_PRODUCTS} FROM seq;
INSERT INTO users (id, username, email, password_hash, is_staff) VALUES (1, 'flash_admin', 'flash_admin@example.com', 'x', 1);
INSERT INTO sessions (id, user_id, refresh_jti, expires_at) VALUES ('flash-admin', 1, 'r-admin', ${far});
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${users})
INSERT INTO users (id, username, email, password_hash) SELECT 1 + i, 'buyer' || i, 'buyer' || i || '@example.com', 'x' FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${users})
INSERT INTO sessions (id, user_id, refresh_jti, expires_at) SELECT 'flash-' || i, 1 + i, 'r-' || i, ${far} FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${users})
INSERT INTO carts (id, user_id) SELECT i, 1 + i FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ${users})
INSERT INTO cart_items (cart_id, product_id, quantity)
  SELECT i, CASE WHEN i <= ${checkouts} THEN 1 WHEN i <= ${2 * checkouts} THEN 2 ELSE 3 + (i % ${SPREAD_PRODUCTS}) END, 1 FROM seq;
`;
}

/** autocannon requests that each carry the next buyer's token: every buyer checks out exactly once. */
function eachBuyerOnce(tokens) {
  let next = 0;
  const body = JSON.stringify({ shipping_address: "1 Flash Sale Road, Bengaluru 560001" });
  return [
    {
      method: "POST",
      path: "/api/orders/create_order/",
      body,
      headers: { "content-type": "application/json" },
      setupRequest: (req) => ({ ...req, headers: { ...req.headers, authorization: `Bearer ${tokens[next++ % tokens.length]}` } }),
    },
  ];
}

export async function runFlashPhase({ log = console.log } = {}) {
  const checkouts = FLASH_CHECKOUTS;
  const stock = checkouts / 10;
  const secret = jwtSecret();
  log(`flash: fresh state, ${checkouts * 3} buyers, stock ${stock} per storm`);
  const dir = await freshState("flash");
  const sqlFile = join(tmpdir(), `flash-seed-${process.pid}.sql`);
  writeFileSync(sqlFile, seedSql(checkouts));
  await d1Execute(dir, ["--file", sqlFile]);
  const buyers = (storm) => Array.from({ length: checkouts }, (_, i) => accessToken(secret, 2 + storm * checkouts + i, `flash-${storm * checkouts + i + 1}`));
  const admin = accessToken(secret, 1, "flash-admin", true);
  // Both Workers, as deployed: the edge (serving the port) forwards the checkout to the data Worker next to D1 and the
  // objects (README "Where each write runs"); the sold-out flag lives in the data Worker's isolate.
  const worker = await startWorker(dir, { configs: ["wrangler.edge.jsonc", "wrangler.toml"] });
  const rows = [];
  try {
    const { base } = worker;
    await api(base, "/api/products/2/", { method: "PATCH", token: admin, body: { stock_shards: SHARDS } });
    const storms = [
      { name: `1 product, 1 shard`, products: [1], shards: 1 },
      { name: `1 product, ${SHARDS} shards`, products: [2], shards: SHARDS },
      { name: `${SPREAD_PRODUCTS} products, 1 shard each`, products: Array.from({ length: SPREAD_PRODUCTS }, (_, i) => 3 + i), shards: 1 },
    ];
    for (const [i, storm] of storms.entries()) {
      log(`flash: storm "${storm.name}": ${checkouts} checkouts over ${Math.min(CONNECTIONS, checkouts)} connections`);
      const row = await measure(`flash storm: ${storm.name} (${checkouts} checkouts, stock ${stock})`, base, {
        requests: eachBuyerOnce(buyers(i)),
        connections: CONNECTIONS,
        amount: checkouts,
      });
      await new Promise((r) => setTimeout(r, PROJECTION_WAIT_MS));
      let projected = 0;
      for (const id of storm.products) projected += (await api(base, `/api/products/${id}/`, { token: admin })).data.stock;
      const created = row.status_codes["201"] ?? 0;
      const fivexx = Object.entries(row.status_codes).reduce((n, [code, count]) => n + (code >= "500" ? count : 0), 0);
      row.flash = { storm: storm.name, shards: storm.shards, checkouts, stock, created, fivexx, projected_after_lag: projected, exact: created === stock && projected === 0 && fivexx === 0 };
      rows.push(row);
      log(`  ${row.rps} req/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms; ${created} orders of ${stock} (${row.flash.exact ? "exact" : "NOT EXACT"}), ${fivexx} x 5xx, D1 stock ${projected}`);
    }
    const orders = (await api(base, "/api/orders/?page_size=1", { token: admin })).data.count;
    const created = rows.reduce((n, r) => n + r.flash.created, 0);
    return { checkouts, connections: Math.min(CONNECTIONS, checkouts), rows, orders_in_d1: orders, orders_match: orders === created };
  } finally {
    await worker.stop();
    removeState(dir);
    try {
      removeState(sqlFile);
    } catch {
      /* best effort */
    }
  }
}

/** The phase's Markdown table. */
export function renderFlash(flash) {
  const lines = [
    `### Flash sale (${flash.checkouts} checkouts per storm, ${flash.connections} connections, stock a tenth)`,
    "",
    "| storm | orders / stock | 5xx | req/s | p50 ms | p99 ms | D1 stock after lag | exact |",
    "|---|---|---|---|---|---|---|---|",
    ...flash.rows.map((r) => `| ${r.flash.storm} | ${r.flash.created} / ${r.flash.stock} | ${r.flash.fivexx} | ${r.rps} | ${r.p50_ms} | ${r.p99_ms} | ${r.flash.projected_after_lag} | ${r.flash.exact ? "yes" : "NO"} |`),
    "",
    `Orders in D1 after the three storms: ${flash.orders_in_d1} (${flash.orders_match ? "equal to" : "NOT equal to"} the 201s counted).`,
    "",
  ];
  return lines.join("\n");
}

// Seeding the benchmark's fresh state. Prefers the project's seeder (`npm run seed`, scripts/seed.mjs) pointed at the
// bench persist dir; falls back to a built-in SQL seeder (categories + products straight into D1, like the real
// seeder does) when scripts/seed.mjs is missing or cannot target another persist dir.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { d1Execute, ROOT, run } from "./worker.mjs";

const SEED_SCRIPT = join(ROOT, "scripts", "seed.mjs");

export function projectSeederUsable() {
  return existsSync(SEED_SCRIPT) && readFileSync(SEED_SCRIPT, "utf8").includes("persist-to");
}

/** Seeds `products` products (and `orders` orders when the project's seeder supports it). Returns what was used. */
export async function seed(dir, { products, orders = 0 }) {
  const started = Date.now();
  if (projectSeederUsable()) {
    const args = [SEED_SCRIPT, "--products", String(products), "--persist-to", dir];
    if (orders > 0) args.push("--orders", String(orders));
    await run(process.execPath, args, { timeoutMs: 480_000 });
    return { seeder: "npm run seed", seconds: (Date.now() - started) / 1000 };
  }
  await fallbackSeed(dir, products);
  return { seeder: "built-in SQL fallback (scripts/seed.mjs unavailable)", seconds: (Date.now() - started) / 1000 };
}

const ADJECTIVES = ["Classic", "Premium", "Compact", "Wireless", "Smart", "Portable", "Organic", "Vintage", "Deluxe", "Eco", "Ultra", "Pro"];
const NOUNS = ["Phone", "Laptop", "Headphones", "Camera", "Watch", "Backpack", "Lamp", "Kettle", "Chair", "Shoes", "Jacket", "Speaker", "Bottle", "Blender", "Monitor", "Keyboard"];
const EXTRAS = ["steel", "cotton", "bamboo", "leather", "carbon", "ceramic", "glass", "wool"];
const ROOTS = ["Electronics", "Home", "Fashion", "Sports", "Books", "Kitchen", "Outdoors", "Toys"];

async function fallbackSeed(dir, count) {
  const q = (s) => `'${String(s).replaceAll("'", "''")}'`;
  const lines = [];
  let catId = 0;
  const leafIds = [];
  for (const root of ROOTS) {
    const rootId = ++catId;
    lines.push(`INSERT INTO categories (id, name, slug, description, parent_id) VALUES (${rootId}, ${q(root)}, ${q(root.toLowerCase())}, ${q(root + " products")}, NULL);`);
    for (let k = 1; k <= 3; k++) {
      const id = ++catId;
      lines.push(`INSERT INTO categories (id, name, slug, description, parent_id) VALUES (${id}, ${q(`${root} ${k}`)}, ${q(`${root.toLowerCase()}-${k}`)}, NULL, ${rootId});`);
      leafIds.push(id);
    }
  }
  const base = Date.UTC(2025, 0, 1);
  const rows = [];
  for (let i = 1; i <= count; i++) {
    const adj = ADJECTIVES[i % ADJECTIVES.length];
    const noun = NOUNS[(i * 7) % NOUNS.length];
    const name = `${adj} ${noun} ${i}`;
    // One product in 5,000 mentions "titanium": the rare search word.
    const extra = i % 5000 === 0 ? "titanium" : EXTRAS[i % EXTRAS.length];
    const description = `A ${adj.toLowerCase()} ${noun.toLowerCase()} made of ${extra}. Model ${i}.`;
    const created = new Date(base + i * 60_000).toISOString();
    rows.push(`(${leafIds[i % leafIds.length]}, ${q(name)}, ${q(`${adj}-${noun}-${i}`.toLowerCase())}, ${q(description)}, ${1000 + ((i * 7919) % 500000)}, ${(i * 13) % 200}, 1, ${q(created)}, ${q(created)})`);
  }
  for (let i = 0; i < rows.length; i += 500) {
    lines.push(`INSERT INTO products (category_id, name, slug, description, price_paise, stock, is_active, created_at, updated_at) VALUES\n${rows.slice(i, i + 500).join(",\n")};`);
  }
  const file = join(dir, "bench-seed.sql");
  writeFileSync(file, lines.join("\n") + "\n");
  try {
    await d1Execute(dir, ["--file", file]);
  } finally {
    rmSync(file, { force: true });
  }
}

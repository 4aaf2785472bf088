/**
 * Runs Portman (OpenAPI -> Postman collection, with its contract tests, variations and fuzzing) on a document and a
 * configuration given as objects, in a scratch directory (Portman writes working files into its current directory),
 * and returns the collection.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";

const PORTMAN = resolve("node_modules/@apideck/portman/bin/portman");
const SEEDED_RANDOM = pathToFileURL(resolve("scripts/postman/seeded-random.mjs")).href;

export function runPortman(doc, config, { includeTests = true } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "portman-"));
  try {
    writeFileSync(join(dir, "openapi.json"), JSON.stringify(doc));
    writeFileSync(join(dir, "portman-config.json"), JSON.stringify(config));
    const args = ["--import", SEEDED_RANDOM, PORTMAN, "-l", "openapi.json", "-c", "portman-config.json", "-o", "collection.json", "-b", "{{baseUrl}}"];
    args.push("--includeTests", String(includeTests), "--ignoreCircularRefs", "true", "--warn", "false", "--logAssignVariables", "false");
    execFileSync(process.execPath, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(readFileSync(join(dir, "collection.json"), "utf8"));
  } catch (err) {
    process.stderr.write(String(err.stdout ?? "") + String(err.stderr ?? ""));
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Replaces the random ids Portman gives every item, script and the collection with ones derived from their content,
 * so regenerating an unchanged document rewrites nothing.
 */
export function stableIds(collection) {
  const hash = (value) => createHash("sha256").update(value).digest("hex");
  const uuid = (h) => `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
  const seen = new Map();
  const visit = (node, path) => {
    if (Array.isArray(node)) return node.forEach((child, i) => visit(child, `${path}/${child?.name ?? i}`));
    if (!node || typeof node !== "object") return;
    if (typeof node.id === "string") {
      const key = `${path}|${node.name ?? ""}`;
      const n = (seen.get(key) ?? 0) + 1;
      seen.set(key, n);
      node.id = uuid(hash(`${key}#${n}`));
    }
    for (const [k, v] of Object.entries(node)) if (k !== "id") visit(v, `${path}/${k}`);
  };
  visit(collection, "");
  if (collection.info) collection.info._postman_id = uuid(hash(collection.info.name ?? "collection"));
  if (collection._?.postman_id) collection._.postman_id = collection.info?._postman_id;
  return collection;
}

/** Calls `fn(item, op)` for every request of the collection, with the document's operation it was generated from. */
export function eachRequest(collection, ops, fn) {
  const byKey = new Map(ops.map((op) => [`${op.method} ${op.path}`, op]));
  const visit = (items) => {
    for (const item of items) {
      if (item.item) visit(item.item);
      else {
        const path = `/${item.request.url.path.map((s) => (s.startsWith(":") ? `{${s.slice(1)}}` : s)).join("/")}`;
        fn(item, byKey.get(`${item.request.method} ${path}`));
      }
    }
  };
  visit(collection.item);
}

/** The request sends `Authorization: Bearer {{variable}}`, or no token when `variable` is null. */
export function setBearer(item, variable) {
  item.request.auth = variable
    ? { type: "bearer", bearer: [{ type: "string", value: `{{${variable}}}`, key: "token" }] }
    : { type: "noauth", noauth: [] };
}

// Copies the docs UI (Swagger UI, pinned in package-lock.json) out of node_modules into the Workers static assets
// folder, so /docs loads nothing from another origin. Runs before dev, test, test:browser and deploy; the copies are
// git-ignored (public/docs/vendor/), so the version served is always the one the lockfile installed.
//
// swagger-ui.css embeds its icons as data: URLs, which a CSP of img-src 'self' blocks; each one is written out as
// a file beside the stylesheet and the stylesheet points at it, so the page's policy can stay 'self' and nothing else.
// Source map comments are dropped: the maps are not shipped. Unchanged files are not rewritten, so a running
// `wrangler dev` does not see the folder churn when the tests start.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative } from "node:path";

const EXTENSIONS = { "image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif" };
const SOURCE_MAP_COMMENT = /\n?\/[/*]# sourceMappingURL=[^\n]*?(\*\/)?\s*$/;

const source = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const target = new URL("../public/docs/vendor/", import.meta.url).pathname;
const wanted = new Map(); // path under target -> contents

/** `url("data:…")` or `url(data:…)` -> `url(img/<hash>.<ext>)`, with the decoded bytes as that file. */
function extractDataUrl(_match, quoted, bare) {
  // In a quoted CSS string the only escape swagger-ui.css uses is \" ; a bare url() has none.
  const url = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : bare;
  const [, type, params, data] = /^data:([^;,]+)((?:;[^;,]+)*),(.*)$/s.exec(url) ?? [];
  if (!(type in EXTENSIONS)) throw new Error(`swagger-ui.css: unexpected data URL ${url.slice(0, 60)}`);
  const bytes = params.includes(";base64") ? Buffer.from(data, "base64") : Buffer.from(decodeURIComponent(data));
  const name = `img/${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.${EXTENSIONS[type]}`;
  wanted.set(name, bytes);
  return `url(${name})`;
}

const css = readFileSync(join(source, "swagger-ui.css"), "utf8")
  .replace(/url\(\s*(?:"(data:(?:[^"\\]|\\.)*)"|(data:[^)"'\s]*))\s*\)/g, extractDataUrl)
  .replace(SOURCE_MAP_COMMENT, "\n");
if (css.includes("data:")) throw new Error("swagger-ui.css: a data: URL was left in the stylesheet");
wanted.set("swagger-ui.css", Buffer.from(css));
wanted.set("swagger-ui-bundle.js", Buffer.from(readFileSync(join(source, "swagger-ui-bundle.js"), "utf8").replace(SOURCE_MAP_COMMENT, "\n")));
for (const file of ["favicon-32x32.png", "LICENSE", "NOTICE"]) wanted.set(file, readFileSync(join(source, file)));

let written = 0;
for (const [name, bytes] of wanted) {
  const path = join(target, name);
  let current;
  try {
    current = readFileSync(path);
  } catch {
    // not there yet
  }
  if (current?.equals(bytes)) continue;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  written++;
}
for (const entry of readdirSync(target, { recursive: true, withFileTypes: true })) {
  const name = relative(target, join(entry.parentPath, entry.name));
  if (entry.isFile() && !wanted.has(name)) rmSync(join(target, name));
}

const { version } = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
console.log(`swagger-ui-dist ${version} in public/docs/vendor/ (${written} of ${wanted.size} files updated)`);

// Copies the docs UI (Swagger UI, pinned in package-lock.json) out of node_modules into the Workers static assets
// folder, so /docs loads nothing from another origin. Runs before dev, test, test:browser and deploy; the copies are
// git-ignored (public/docs/vendor/), so the version served is always the one the lockfile installed.
//
// swagger-ui.css embeds its icons as data: URLs, which a CSP of img-src 'self' blocks; each one is written out as
// a file beside the stylesheet and the stylesheet points at it, so the page's policy can stay 'self' and nothing else.
import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const COPIED = ["swagger-ui-bundle.js", "favicon-32x32.png", "LICENSE", "NOTICE"];
const EXTENSIONS = { "image/svg+xml": "svg", "image/png": "png", "image/jpeg": "jpg", "image/gif": "gif" };

const source = dirname(createRequire(import.meta.url).resolve("swagger-ui-dist/package.json"));
const target = new URL("../public/docs/vendor/", import.meta.url).pathname;
rmSync(target, { recursive: true, force: true });
mkdirSync(join(target, "img"), { recursive: true });
for (const file of COPIED) copyFileSync(join(source, file), join(target, file));

/** `url("data:…")` or `url(data:…)` -> `url(img/<hash>.<ext>)`, with the decoded bytes written to that file. */
function extractDataUrl(_match, quoted, bare) {
  // In a quoted CSS string the only escape swagger-ui.css uses is \" ; a bare url() has none.
  const url = quoted !== undefined ? quoted.replace(/\\(.)/g, "$1") : bare;
  const [, type, params, data] = /^data:([^;,]+)((?:;[^;,]+)*),(.*)$/s.exec(url) ?? [];
  if (!(type in EXTENSIONS)) throw new Error(`swagger-ui.css: unexpected data URL ${url.slice(0, 60)}`);
  const bytes = params.includes(";base64") ? Buffer.from(data, "base64") : Buffer.from(decodeURIComponent(data));
  const name = `img/${createHash("sha256").update(bytes).digest("hex").slice(0, 16)}.${EXTENSIONS[type]}`;
  writeFileSync(join(target, name), bytes);
  return `url(${name})`;
}
const css = readFileSync(join(source, "swagger-ui.css"), "utf8")
  .replace(/url\(\s*(?:"(data:(?:[^"\\]|\\.)*)"|(data:[^)"'\s]*))\s*\)/g, extractDataUrl)
  .replace(/\/\*# sourceMappingURL=.*?\*\//, "");
if (css.includes("data:")) throw new Error("swagger-ui.css: a data: URL was left in the stylesheet");
writeFileSync(join(target, "swagger-ui.css"), css);

const { version } = JSON.parse(readFileSync(join(source, "package.json"), "utf8"));
console.log(`Copied swagger-ui-dist ${version} to public/docs/vendor/`);

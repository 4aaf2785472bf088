// Builds the shop console (console/) into the static assets served at /admin/ (public/admin/, git-ignored): one
// minified ES module and one stylesheet from the npm packages pinned in package-lock.json (Preact, htm, uPlot,
// hono/client), plus the HTML shell. Runs before dev, test, test:browser and deploy, like copy-docs-assets.mjs.
// Files whose bytes did not change are not rewritten, so a running `wrangler dev` does not reload for nothing.
import { build } from "esbuild";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const root = new URL("..", import.meta.url).pathname;
const out = `${root}public/admin/`;
mkdirSync(out, { recursive: true });

const result = await build({
  entryPoints: { app: `${root}console/main.ts` },
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  write: false,
  outdir: out,
  legalComments: "none",
  logLevel: "warning",
});

let written = 0;
function keep(path, bytes) {
  let current;
  try {
    current = readFileSync(path);
  } catch {
    // not there yet
  }
  if (current?.equals(Buffer.from(bytes))) return;
  writeFileSync(path, bytes);
  written++;
}
for (const file of result.outputFiles) keep(file.path, file.contents);
for (const file of ["index.html", "favicon.svg"]) keep(`${out}${file}`, readFileSync(`${root}console/${file}`));

const gz = result.outputFiles.reduce((n, f) => n + gzipSync(f.contents).length, 0);
console.log(`console built into public/admin/ (${written} files updated; JS + CSS ${(gz / 1024).toFixed(1)} KB gzipped)`);

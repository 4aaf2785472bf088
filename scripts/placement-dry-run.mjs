// Shows where each Worker will run, without deploying (issue 24): `wrangler deploy --dry-run --outfile` for the data
// Worker (wrangler.toml) and the edge Worker (wrangler.edge.jsonc), then the placement each upload would carry. The
// `--outdir` form prints nothing about placement; the upload's metadata does ("mode":"targeted" for a region).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

execFileSync(process.execPath, ["scripts/edge-config.mjs"], { stdio: "inherit" });
const dir = mkdtempSync(join(tmpdir(), "edge-shop-dry-run-"));
try {
  for (const config of ["wrangler.toml", "wrangler.edge.jsonc"]) {
    const out = join(dir, `${config}.upload`);
    execFileSync("wrangler", ["deploy", "--dry-run", "-c", config, "--outfile", out], { stdio: ["ignore", "ignore", "inherit"] });
    const upload = readFileSync(out, "latin1");
    const placement = /"placement":(\{[^}]*\})/.exec(upload)?.[1] ?? "none (runs next to the request)";
    const services = [...upload.matchAll(/"name":"([^"]+)","type":"service","service":"([^"]+)"/g)].map((m) => `${m[1]} -> ${m[2]}`);
    console.log(`${config}: placement ${placement}${services.length ? `; service binding ${services.join(", ")}` : ""}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/**
 * `npm run lint:openapi`: lints the generated OpenAPI document with Redocly CLI (rules in redocly.yaml) and fails on
 * any error or warning; Redocly itself only fails on errors.
 */
import { execFileSync } from "node:child_process";

const file = process.argv[2] ?? "build/openapi.json";
let output;
try {
  output = execFileSync("npx", ["--no-install", "redocly", "lint", file, "--config", "redocly.yaml", "--format", "json"], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
} catch (err) {
  // Redocly exits 1 when it finds errors; its report is still on stdout.
  if (!err.stdout) throw err;
  output = err.stdout;
}
const report = JSON.parse(output);
for (const problem of report.problems) {
  const where = problem.location.map((l) => `${l.source.ref}${l.pointer} (line ${l.start?.line ?? "?"})`).join(", ");
  console.error(`${problem.severity} ${problem.ruleId}: ${problem.message}\n    at ${where}`);
}
const { errors, warnings, ignored } = report.totals;
console.log(`redocly lint ${file}: ${errors} errors, ${warnings} warnings, ${ignored} ignored (see .redocly.lint-ignore.yaml)`);
if (errors + warnings > 0) process.exit(1);

// Copies the README's pictures of the shop console out of the browser test's screenshots: run `npm run test:browser`
// first (it writes test-results/console-*.png, git-ignored), then `npm run console:pictures`, and commit docs/.
// Only the Dashboard and the Orders page are pictured; the test's other screenshots stay artifacts.
import { copyFileSync, existsSync, mkdirSync } from "node:fs";

const pictures = { "console-dashboard-top.png": "docs/console-dashboard.png", "console-orders-top.png": "docs/console-orders.png" };
mkdirSync("docs", { recursive: true });
for (const [shot, picture] of Object.entries(pictures)) {
  const from = `test-results/${shot}`;
  if (!existsSync(from)) {
    console.error(`${from} is missing: run npm run test:browser first`);
    process.exit(1);
  }
  copyFileSync(from, picture);
  console.log(`${from} -> ${picture}`);
}

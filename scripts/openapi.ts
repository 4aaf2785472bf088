/**
 * Writes the OpenAPI document the Worker serves at /openapi.json to a file, without a running server:
 * `tsx --import ./scripts/cloudflare-stub.mjs scripts/openapi.ts build/openapi.json` (see `npm run lint:openapi`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { createApp } from "../src/app";

const out = process.argv[2] ?? "build/openapi.json";
// The served document names the origin it was requested from as its server. This copy is for tools that read a file
// (lint, SDK generators); pass the deployed origin as OPENAPI_ORIGIN. The default is a reserved name that never resolves.
const origin = process.env.OPENAPI_ORIGIN ?? "https://edge-shop-api.invalid";
const res = await createApp().request(`${origin}/openapi.json`, {}, {});
if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(await res.json(), null, 2)}\n`);
console.log(`wrote ${out}`);

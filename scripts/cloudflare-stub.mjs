/**
 * Lets Node import the Worker's modules outside workerd (`node --import ./scripts/cloudflare-stub.mjs ...`):
 * `cloudflare:*` modules resolve to empty base classes. Only for building artifacts such as the OpenAPI document;
 * nothing that runs a Durable Object may use it.
 */
import { register } from "node:module";
import { isMainThread } from "node:worker_threads";

const STUB = "data:text/javascript,export class DurableObject {} export class WorkerEntrypoint {} export const env = {};";

// Module hooks run on their own thread; register them once, from the main thread.
if (isMainThread) register(import.meta.url);

export async function resolve(specifier, context, next) {
  if (specifier.startsWith("cloudflare:")) return { url: STUB, shortCircuit: true };
  return next(specifier, context);
}

/**
 * Writes to Workers KV under production's limit of one write per second to the same key. Production rejects a
 * faster write with `KV PUT failed: 429 Too Many Requests`; local KV never does, so only an injected failure
 * shows it in tests. A rejected write is retried once, after the window has passed; if that is rejected too,
 * another writer keeps the key busy and the client is told to retry (429 with Retry-After: 1). So a write is
 * either stored or reported, never a 500 and never silently dropped.
 */
import { ApiError } from "./errors";

/** A little over KV's one-second window per key. */
const RETRY_AFTER_MS = 1_050;

const isRateLimited = (err: unknown) => err instanceof Error && /\b429\b|too many requests/i.test(err.message);

export async function writeKvKey(write: () => Promise<unknown>, busyMessage: string): Promise<void> {
  try {
    await write();
    return;
  } catch (err) {
    if (!isRateLimited(err)) throw err;
  }
  await new Promise((resolve) => setTimeout(resolve, RETRY_AFTER_MS));
  try {
    await write();
  } catch (err) {
    if (!isRateLimited(err)) throw err;
    throw new ApiError(429, { error: busyMessage }, { "Retry-After": "1" });
  }
}

/**
 * Where Durable Objects are created. An object is created near its first `get()` and never moves; a `locationHint`
 * is honoured only by that first call (Cloudflare, durable-objects/reference/data-location). So every stub passes
 * the hint, from the edge and from the data side alike: whichever side touches an object first, it is created in
 * the data region, next to the D1 primary (`wrangler d1 create --location` takes the same names). The hint is the
 * var OBJECTS_LOCATION_HINT (wrangler.toml); empty means "near the first caller", the platform's default.
 */
const HINTS: ReadonlySet<string> = new Set<DurableObjectLocationHint>(["wnam", "enam", "sam", "weur", "eeur", "apac", "oc", "afr", "me"]);

export function objectLocation(env: Env): DurableObjectNamespaceGetDurableObjectOptions | undefined {
  const hint = env.OBJECTS_LOCATION_HINT;
  if (!hint) return undefined;
  // A misspelt hint would silently create objects wherever the first request lands, for good: refuse it loudly.
  if (!HINTS.has(hint)) throw new Error(`OBJECTS_LOCATION_HINT "${hint}" is not a Durable Object location hint`);
  return { locationHint: hint as DurableObjectLocationHint };
}

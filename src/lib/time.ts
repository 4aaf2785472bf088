/** ISO 8601 UTC timestamp with milliseconds, the format every table stores. */
export const nowIso = () => new Date().toISOString();
export const nowSeconds = () => Math.floor(Date.now() / 1000);

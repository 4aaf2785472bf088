/**
 * The console's only way to the server: the API's own typed client (`hc<App>`), so every call is a documented
 * operation and the compiler checks its path, query, body and answer against the routes.
 *
 * Tokens live in sessionStorage, never localStorage: they last as long as this tab (a reload keeps the admin signed
 * in, closing the tab forgets them), no other tab shares them (so two tabs never race to rotate one refresh token),
 * and the page's CSP runs no script but this origin's own, which is what could read them.
 */
import { hc } from "hono/client";
import type { App } from "../build/api-types/app";

const ACCESS = "console.access";
const REFRESH = "console.refresh";

export const tokens = {
  get access() {
    return sessionStorage.getItem(ACCESS);
  },
  get refresh() {
    return sessionStorage.getItem(REFRESH);
  },
  set(pair: { access: string; refresh: string }) {
    sessionStorage.setItem(ACCESS, pair.access);
    sessionStorage.setItem(REFRESH, pair.refresh);
  },
  clear() {
    sessionStorage.removeItem(ACCESS);
    sessionStorage.removeItem(REFRESH);
  },
};

/** Whether an access token says its user was staff when issued (the `stf` claim); the API checks it again. */
export function isStaffToken(access: string): boolean {
  try {
    const payload = access.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).stf === true;
  } catch {
    return false;
  }
}

/** Every path of this API ends with a slash, which hc drops (see examples/typed-client.ts): put it back. */
function withTrailingSlash(input: RequestInfo | URL): URL {
  const url = new URL(input instanceof Request ? input.url : String(input), location.origin);
  if (url.pathname.startsWith("/api/") && !url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}

/** The client without the bearer token: sign-in and refresh. */
export const publicApi = hc<App>(location.origin, { fetch: (input: RequestInfo | URL, init?: RequestInit) => fetch(withTrailingSlash(input), init) });

let onSignedOut: (message: string) => void = () => undefined;
/** Called when the session ends behind the console's back (the refresh token was refused). */
export function whenSignedOut(handler: (message: string) => void) {
  onSignedOut = handler;
}

let refreshing: Promise<boolean> | null = null;

/** One refresh at a time, however many calls found the access token expired together. */
function refreshOnce(): Promise<boolean> {
  refreshing ??= (async () => {
    const refresh = tokens.refresh;
    if (!refresh) return false;
    const res = await publicApi.api.auth.token.refresh.index.$post({ json: { refresh } });
    if (res.status !== 200) {
      await res.text();
      return false;
    }
    tokens.set(await res.json());
    return true;
  })().finally(() => (refreshing = null));
  return refreshing;
}

/** Sends the access token; an expired one is refreshed once and the call retried; a refused refresh signs out. */
async function authedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const url = withTrailingSlash(input);
  const send = () => {
    const headers = new Headers(init?.headers);
    if (tokens.access) headers.set("Authorization", `Bearer ${tokens.access}`);
    return fetch(url, { ...init, headers });
  };
  const res = await send();
  if (res.status !== 401 || !tokens.refresh) return res;
  if (await refreshOnce()) {
    await res.text(); // read to the end, so the browser counts the refused answer as done
    return send();
  }
  tokens.clear();
  onSignedOut("Your session has ended. Sign in again.");
  return res;
}

export const api = hc<App>(location.origin, { fetch: authedFetch }).api;

/** An answer that is not a success, as the page shows it: field errors beside their fields, anything else as text. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: Record<string, string[]> = {},
  ) {
    super(message);
  }
}

/** Reads the API's error shapes: DRF field errors `{field: [message]}`, `{detail}` or `{error}`. */
export async function failure(res: Response): Promise<ApiFailure> {
  let body: unknown = null;
  try {
    body = await res.json();
  } catch {
    // not JSON: the status says enough
  }
  if (res.status === 403) return new ApiFailure(403, "This account is not an admin");
  if (res.status === 412) return new ApiFailure(412, "This product changed since you opened it — reload it to see the change, then edit again.");
  if (body && typeof body === "object") {
    const record = body as Record<string, unknown>;
    if (typeof record.detail === "string") return new ApiFailure(res.status, record.detail);
    if (typeof record.error === "string") return new ApiFailure(res.status, record.error);
    const fields = Object.fromEntries(Object.entries(record).filter(([, v]) => Array.isArray(v))) as Record<string, string[]>;
    if (Object.keys(fields).length > 0) {
      const general = fields.non_field_errors?.join(" ") ?? "Some fields need a change; see the messages beside them.";
      return new ApiFailure(res.status, general, fields);
    }
  }
  return new ApiFailure(res.status, `The server answered ${res.status}. Try again.`);
}

/** The body type of the 2xx answers among a typed client's possible responses. */
type Success<R> = R extends { status: 200 | 201; json(): Promise<infer B> } ? B : never;

/** The JSON of a success, or the failure thrown. */
export async function ok<R extends { ok: boolean; status: number; json(): Promise<unknown> }>(res: R): Promise<Success<R>> {
  if (!res.ok) throw await failure(res as unknown as Response);
  return (await res.json()) as Success<R>;
}

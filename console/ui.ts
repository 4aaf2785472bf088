/** What every page shares: the template tag, loading a page's data, errors, field errors, paging and the route. */
import { h, type ComponentChildren } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import htm from "htm";
import { ApiFailure } from "./api";

export const html = htm.bind(h);

/** The hash route: `#/orders?status=paid` -> { path: "/orders", params }. */
export function currentRoute() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  return { path: path || "/", params: new URLSearchParams(query) };
}

/** Goes to `path` with `params` (empty ones left out), as a link would. */
export function go(path: string, params: Record<string, string | number | undefined> = {}) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") query.set(k, String(v));
  const text = query.toString();
  location.hash = `#${path}${text ? `?${text}` : ""}`;
}

export interface Loaded<T> {
  data: T | null;
  error: ApiFailure | null;
  reload: () => void;
}

/** Runs `load` when `key` changes (and on reload), keeping the last data while the next loads. */
export function useLoad<T>(load: () => Promise<T>, key: string): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<ApiFailure | null>(null);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && (setData(value), setError(null)),
      (err: unknown) => live && setError(asFailure(err)),
    );
    return () => {
      live = false;
    };
  }, [key, round]);
  const reload = useCallback(() => setRound((r) => r + 1), []);
  return { data, error, reload };
}

export function asFailure(err: unknown): ApiFailure {
  if (err instanceof ApiFailure) return err;
  return new ApiFailure(0, "The server could not be reached. Check the connection and try again.");
}

/** A page-level message: an error (announced) or a notice. */
export function Message({ error, notice }: { error?: ApiFailure | null; notice?: string | null }) {
  if (error) return html`<p class="message error" role="alert">${error.message}</p>`;
  if (notice) return html`<p class="message notice" role="status">${notice}</p>`;
  return null;
}

/** The API's message for one field, tied to its input by `aria-describedby` (see `fieldProps`). */
export function FieldError({ failure, name, form }: { failure: ApiFailure | null; name: string; form: string }) {
  const messages = failure?.fields[name];
  if (!messages?.length) return null;
  return html`<p class="field-error" id=${`${form}-${name}-error`}>${messages.join(" ")}</p>`;
}

/** id, name and the ARIA state of an input whose field may have an API error. */
export function fieldProps(failure: ApiFailure | null, name: string, form: string) {
  const invalid = Boolean(failure?.fields[name]?.length);
  return {
    id: `${form}-${name}`,
    name,
    "aria-invalid": invalid ? "true" : undefined,
    "aria-describedby": invalid ? `${form}-${name}-error` : undefined,
  };
}

export function Pager({ page, count, pageSize, onPage }: { page: number; count: number; pageSize: number; onPage: (page: number) => void }) {
  const last = Math.max(1, Math.ceil(count / pageSize));
  return html`<nav class="pager" aria-label="Pages">
    <button type="button" disabled=${page <= 1} onClick=${() => onPage(page - 1)}>Previous page</button>
    <span>Page ${page} of ${last} (${count} in all)</span>
    <button type="button" disabled=${page >= last} onClick=${() => onPage(page + 1)}>Next page</button>
  </nav>`;
}

export function Loading({ children }: { children?: ComponentChildren }) {
  return html`<p class="loading" role="status">${children ?? "Loading…"}</p>`;
}

/** The text of a form field by name. */
export const formText = (form: HTMLFormElement, name: string) => String(new FormData(form).get(name) ?? "").trim();

/**
 * The email provider: Resend's HTTP API over fetch (`POST {EMAIL_API_BASE}/emails`), nothing else. The
 * Idempotency-Key makes a retried send deliver once. Resend accepts 2 requests a second by default, so sends are
 * paced here (per isolate); a 429 or 5xx or a network failure is "retry" (through the Queue), any other 4xx (a bad
 * address) is "rejected" and recorded. Without RESEND_API_KEY nothing is sent: with EMAIL_DEV_LOG=1 (local development)
 * the message is written to the log in one line, link included; otherwise it is dropped with a warning that carries
 * no token or link.
 */
import type { Email } from "./templates";

export const DEFAULT_EMAIL_API_BASE = "https://api.resend.com";
const MIN_INTERVAL_MS = 500;
const SEND_TIMEOUT_MS = 10_000;

export type SendOutcome = { result: "sent" | "logged" | "dropped" } | { result: "retry" | "rejected"; status: number | null; error: string };

let nextSlot = 0;
/** Waits for this isolate's next send slot: at most 2 sends a second. */
async function paced(): Promise<void> {
  const now = Date.now();
  const at = Math.max(now, nextSlot);
  nextSlot = at + MIN_INTERVAL_MS;
  if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
}

export async function sendEmail(env: Env, to: string, email: Email, idempotencyKey: string, devLink?: string): Promise<SendOutcome> {
  if (!env.RESEND_API_KEY) {
    if (env.EMAIL_DEV_LOG === "1") {
      console.log(JSON.stringify({ level: "info", msg: "email (not sent: no RESEND_API_KEY)", to, subject: email.subject, ...(devLink ? { link: devLink } : {}) }));
      return { result: "logged" };
    }
    console.warn(JSON.stringify({ level: "warn", msg: "email dropped: RESEND_API_KEY is not set", subject: email.subject }));
    return { result: "dropped" };
  }
  await paced();
  let res: Response;
  try {
    res = await fetch(`${env.EMAIL_API_BASE || DEFAULT_EMAIL_API_BASE}/emails`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.RESEND_API_KEY}`, "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
      body: JSON.stringify({ from: env.EMAIL_FROM, to: [to], subject: email.subject, html: email.html, text: email.text }),
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    });
  } catch (err) {
    return { result: "retry", status: null, error: `Request failed: ${String((err as Error)?.message ?? err).slice(0, 200)}` };
  }
  if (res.ok) return { result: "sent" };
  const detail = (await res.text().catch(() => "")).slice(0, 500);
  return { result: res.status === 429 || res.status >= 500 ? "retry" : "rejected", status: res.status, error: detail };
}

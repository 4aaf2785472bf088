/**
 * Retention of order events: the scheduled sweep deletes events that are done and old, and with them (ON DELETE
 * CASCADE) their webhook deliveries and email rows, so the outbox does not grow without bound. An event goes when:
 * - it was sent to the Queue (`sent_at`) and written more than EVENT_RETENTION_MS (30 days) ago;
 * - none of its deliveries is `pending`, none was attempted or redelivered within those 30 days, and none `failed`
 *   within FAILED_DELIVERY_RETENTION_MS (90 days): an admin can redeliver a failed delivery for 90 days after its
 *   last attempt (redelivery needs the event's stored payload); a removed endpoint's deliveries are already gone;
 * - none of its emails is `pending`.
 * Unsent events and events with pending deliveries or emails are never purged, however old.
 *
 * Sequences: an event's `seq` is 1 + the highest of its order's (or product's) events, so the purge first records in
 * `event_seq_floors` the seq of each order's newest event it removes, and the triggers count from the higher of the
 * two (migration 0013_event_retention): a later event never reuses or goes below an earlier number.
 *
 * Bounded: one run looks at a window of PURGE_WINDOW events older than the retention, oldest first from a cursor in
 * `sweep_cursors` (through the `events_created_idx` index: only the window is read), and deletes the window's done
 * ones: two D1 queries (the window, one batch). The cursor moves on each run and goes back to the oldest event once
 * a window comes back short, so events that must stay (failed deliveries inside 90 days) never stall the purge: they
 * are looked at again on the next lap.
 */
export const EVENT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
export const FAILED_DELIVERY_RETENTION_MS = 90 * 24 * 60 * 60 * 1000;
/** Events one sweep run looks at (and at most deletes). */
export const PURGE_WINDOW = 500;
const CURSOR = "event_retention";

/**
 * True for an event `e` that is done: ?2 is the retention cutoff, ?3 the failed deliveries' cutoff (ISO strings).
 * Both lookups go through an index on `event_id`.
 */
const DONE = `e.created_at < ?2 AND e.sent_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = e.id
    AND (d.status = 'pending' OR d.updated_at >= CASE d.status WHEN 'failed' THEN ?3 ELSE ?2 END))
  AND NOT EXISTS (SELECT 1 FROM email_messages m WHERE m.event_id = e.id AND m.status = 'pending')`;

/**
 * The window: the next events older than the retention after the cursor, in (created_at, rowid) order, which is the
 * order of the `events_created_idx` index (it ends in the rowid), so only the window's entries are read.
 */
export const WINDOW_SQL = `SELECT e.rowid AS rid, e.id, e.created_at AS at, (${DONE}) AS done
  FROM events e
  WHERE e.created_at < ?2 AND (e.created_at, e.rowid) > (
    (SELECT coalesce(max(mark), '') FROM sweep_cursors WHERE name = '${CURSOR}'),
    (SELECT coalesce(max(position), 0) FROM sweep_cursors WHERE name = '${CURSOR}'))
  ORDER BY e.created_at, e.rowid LIMIT ?1`;

/** Records the seq of each order's (product's) newest event among those about to go; ?1 is a JSON array of ids. */
const floorSql = (subject: "order" | "product") => `INSERT INTO event_seq_floors (subject, subject_id, seq)
  SELECT '${subject}', c.${subject}_id, c.seq FROM events c
  WHERE c.id IN (SELECT value FROM json_each(?1)) AND c.${subject}_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM events n WHERE n.${subject}_id = c.${subject}_id AND n.seq > c.seq)
  ON CONFLICT (subject, subject_id) DO UPDATE SET seq = max(seq, excluded.seq)`;
export const FLOOR_ORDERS_SQL = floorSql("order");
export const FLOOR_PRODUCTS_SQL = floorSql("product");

/** Deletes the listed events that are still done (an admin may have redelivered one since the window was read). */
export const DELETE_SQL = `DELETE FROM events AS e WHERE e.id IN (SELECT value FROM json_each(?1)) AND ${DONE} RETURNING id`;

export interface PurgeResult {
  /** Events looked at. */
  examined: number;
  /** Events deleted (their deliveries and emails went with them). */
  purged: number;
  rowsRead: number;
  rowsWritten: number;
}

type Meta = { rows_read?: number; rows_written?: number };

/** One run of the purge: at most `window` events looked at, and the done ones deleted. */
export async function purgeEvents(d1: D1Database, now = Date.now(), window = PURGE_WINDOW): Promise<PurgeResult> {
  const cutoff = new Date(now - EVENT_RETENTION_MS).toISOString();
  const failedCutoff = new Date(now - FAILED_DELIVERY_RETENTION_MS).toISOString();
  const read = await d1.prepare(WINDOW_SQL).bind(window, cutoff, failedCutoff).all<{ rid: number; id: string; at: string; done: number }>();
  const rows = read.results;
  const metas: Meta[] = [read.meta];
  // A short window reached the end of what is old enough: the next run starts a new lap from the oldest event.
  const last = rows.length < window ? { at: "", rid: 0 } : rows[rows.length - 1];
  const ids = JSON.stringify(rows.filter((r) => r.done).map((r) => r.id));
  const statements = [
    d1
      .prepare("INSERT INTO sweep_cursors (name, position, mark) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET position = excluded.position, mark = excluded.mark")
      .bind(CURSOR, last.rid, last.at),
  ];
  if (ids !== "[]") {
    statements.unshift(
      d1.prepare(FLOOR_ORDERS_SQL).bind(ids),
      d1.prepare(FLOOR_PRODUCTS_SQL).bind(ids),
      d1.prepare(DELETE_SQL).bind(ids, cutoff, failedCutoff),
    );
  }
  const results = await d1.batch(statements);
  metas.push(...results.map((r) => r.meta as Meta));
  return {
    examined: rows.length,
    purged: ids === "[]" ? 0 : results[2].results.length, // (meta.changes counts the cascaded rows too)
    rowsRead: metas.reduce((n, m) => n + (m.rows_read ?? 0), 0),
    rowsWritten: metas.reduce((n, m) => n + (m.rows_written ?? 0), 0),
  };
}

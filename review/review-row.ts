import type { ReviewVerdict } from './alert-record.js';

/** A row of `alert_reviews`, as both databases return it. */
export interface ReviewRow {
  action: ReviewVerdict['action'];
  label: string | null;
  note: string | null;
  by_whom: string;
  /** BIGINT: PostgreSQL returns it as a string. */
  at: number | string;
}

export function verdictOf(r: ReviewRow): ReviewVerdict {
  return { action: r.action, ...(r.label ? { label: r.label } : {}), ...(r.note ? { note: r.note } : {}), by: r.by_whom, at: Number(r.at) };
}

/** The usage report's pure parts: its default range and its CSV. */
import type { UsageGroup, UsageLine } from '../../api/types';

export const USAGE_GROUPS = {
  user: 'User',
  model: 'Model',
  day: 'Day',
} as const satisfies Record<UsageGroup, string>;

export const isUsageGroup = (value: string): value is UsageGroup => Object.hasOwn(USAGE_GROUPS, value);

const utcDay = (date: Date) => date.toISOString().slice(0, 10);

/** This month so far, as the server counts days (UTC): the first of the month to today. */
export function monthToDate(now: Date = new Date()): { from: string; to: string } {
  const first = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  return { from: utcDay(first), to: utcDay(now) };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** What is wrong with a range typed in the date inputs, or null when it can be asked for. */
export function rangeProblem(from: string, to: string): string | null {
  if (!DAY.test(from) || !DAY.test(to)) return 'Choose both days.';
  if (from > to) return 'The first day must not be after the last.';
  return null;
}

export const CSV_HEADER = ['key', 'label', 'estimated_usd', 'reconciled_usd', 'jobs'] as const;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, quote, or line break, quotes doubled.
 * Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first: an account
 * may be named anything) gets a leading `'` so it stays text.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return csvNumber(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A number as plain decimals, to the micro-dollar (no `0.060000000000000005`, no exponent). */
function csvNumber(value: number): string {
  if (!Number.isFinite(value)) return '';
  if (Number.isInteger(value)) return String(value);
  const fixed = value.toFixed(6).replace(/0+$/, '').replace(/\.$/, '');
  return fixed === '-0' ? '0' : fixed;
}

/** The report as CSV: a header line, then one line per row, CRLF-separated as RFC 4180 has it. */
export function usageCsv(rows: readonly UsageLine[]): string {
  const lines = [CSV_HEADER.join(',')];
  for (const row of rows) {
    lines.push([row.key, row.label, row.estimatedUsd, row.reconciledUsd, row.jobs].map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export const csvFileName = (from: string, to: string, groupBy: UsageGroup) => `usage-by-${groupBy}-${from}-to-${to}.csv`;

/** The usage report's pure parts: its default range, its estimates in words, and its CSV. */
import type { UsageGroup, UsageLine } from '../../api/types';
import { formatUsd } from '../../lib/budget';
import { countOf } from '../../lib/words';

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

/**
 * An estimate in words, honest about the jobs fal publishes no price for (counted as nothing in
 * `estimatedUsd`): "$0.06", "$0.06 + 2 jobs without a price", or "price unknown" when no job had one.
 */
export function estimateText({ estimatedUsd, jobs, unpricedJobs }: Pick<UsageLine, 'estimatedUsd' | 'jobs' | 'unpricedJobs'>, locale?: string): string {
  // Older servers left the count out.
  const unpriced = Number.isFinite(unpricedJobs) ? Math.max(0, unpricedJobs) : 0;
  if (jobs > 0 && unpriced >= jobs) return 'price unknown';
  const amount = formatUsd(estimatedUsd, locale);
  return unpriced > 0 ? `${amount} + ${countOf(unpriced, 'job')} without a price` : amount;
}

/** The report's rows added up, for its total line. */
export function usageTotal(rows: readonly UsageLine[]): Pick<UsageLine, 'estimatedUsd' | 'jobs' | 'unpricedJobs'> {
  return rows.reduce(
    (sum, row) => ({
      estimatedUsd: sum.estimatedUsd + row.estimatedUsd,
      jobs: sum.jobs + row.jobs,
      unpricedJobs: sum.unpricedJobs + (Number.isFinite(row.unpricedJobs) ? row.unpricedJobs : 0),
    }),
    { estimatedUsd: 0, jobs: 0, unpricedJobs: 0 },
  );
}

export const CSV_HEADER = ['key', 'label', 'estimated_usd', 'reconciled_usd', 'jobs', 'unpriced_jobs'] as const;

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
    lines.push([row.key, row.label, row.estimatedUsd, row.reconciledUsd, row.jobs, row.unpricedJobs].map(csvCell).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

export const csvFileName = (from: string, to: string, groupBy: UsageGroup) => `usage-by-${groupBy}-${from}-to-${to}.csv`;

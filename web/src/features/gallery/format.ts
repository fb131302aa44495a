/** How the gallery writes asset metadata and share options. Pure functions only. */
import type { Share } from '../../api/types';
import { formatClock, formatDuration, humanEnum } from '../../lib/words';

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GB`;
}

/** Seconds in words: "0.8 seconds", "1 second", "2 minutes 5 seconds". */
export const formatSeconds = formatDuration;

/** A video's or audio's length on its tile: `0:08`, `1:05`. */
export const formatClockTime = formatClock;

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });

export function formatDate(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : dateTime.format(date);
}

/** `num_inference_steps` → "Num inference steps". */
export function humanKey(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Parameters whose text is the person's own words, shown exactly as typed (never as a label). */
const FREE_TEXT_KEY = /prompt|text|caption|instruction|script|description|message|name|lyrics|url|path|seed/i;

/**
 * A parameter's value as readable text: yes/no, lists joined, objects as `width: 1024, height: 768`.
 * Given the parameter's `key`, enum values become labels (`square_hd` → "Square HD") unless the
 * key holds free text (a prompt, a name, a URL).
 */
export function formatValue(value: unknown, key?: string): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return key === undefined || FREE_TEXT_KEY.test(key) ? value : humanEnum(value);
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.map((item) => formatValue(item, key)).join(', ');
  if (typeof value === 'object') {
    // A size as schemas write it ({width, height}) reads as one: "2048 × 1536".
    const { width, height, ...rest } = value as Record<string, unknown>;
    if (typeof width === 'number' && typeof height === 'number' && Object.keys(rest).length === 0) return `${width} × ${height}`;
    return Object.entries(value as Record<string, unknown>)
      .map(([inner, item]) => `${key === undefined ? inner : humanKey(inner).toLowerCase()}: ${formatValue(item, key === undefined ? undefined : inner)}`)
      .join(', ');
  }
  return String(value);
}

/** Parameters worth listing: the prompt has its own line, empty values say nothing. */
export function paramEntries(params: Readonly<Record<string, unknown>>): [string, string][] {
  return Object.entries(params)
    .filter(([key, value]) => key !== 'prompt' && value !== null && value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0))
    .map(([key, value]) => [humanKey(key), formatValue(value, key)]);
}

export const EXPIRY_OPTIONS = [
  { label: 'Never', seconds: null },
  { label: '1 hour', seconds: 3600 },
  { label: '1 day', seconds: 86_400 },
  { label: '7 days', seconds: 7 * 86_400 },
  { label: '30 days', seconds: 30 * 86_400 },
] as const;

/** One line of a share's options: "expires 3 Dec 2026, 10:00 · download allowed · prompt shown · password". */
export function describeShare(share: Share): string {
  return [
    share.expiresAt == null ? 'never expires' : `expires ${formatDate(share.expiresAt)}`,
    share.allowDownload ? 'download allowed' : 'no download',
    share.showPrompt ? 'prompt shown' : 'prompt hidden',
    ...(share.hasPassword ? ['password'] : []),
  ].join(' · ');
}

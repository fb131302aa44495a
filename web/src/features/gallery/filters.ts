/**
 * The gallery's filters live in the URL (`/gallery?q=fox&kind=image&model=…&from=…&to=…&starred=1`),
 * so a reload, the back button and a pasted link all show the same results. Pure functions only.
 */
import type { ResultKind } from '../../api/types';

/**
 * The kinds the gallery filters by (the `kind` query of `GET /api/assets`). `satisfies` ties
 * them to the document's `ResultKind`, so a kind renamed there fails the type check here.
 */
export const KINDS = ['image', 'video', 'audio'] as const satisfies readonly ResultKind[];
export type AssetKind = (typeof KINDS)[number];
export const FILTER_KEYS = ['q', 'kind', 'model', 'from', 'to', 'starred'] as const;
export const PAGE_LIMIT = 60;

export interface Filters {
  q: string;
  kind: AssetKind | null;
  /** An endpoint id, from `GET /api/assets/models`. */
  model: string | null;
  /** Calendar days, `YYYY-MM-DD`, both inclusive. */
  from: string | null;
  to: string | null;
  /** Only starred assets (`?starred=1` here, `starred=true` to the server). */
  starred: boolean;
}

export const NO_FILTERS: Filters = { q: '', kind: null, model: null, from: null, to: null, starred: false };

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** A real calendar day in `YYYY-MM-DD`, or null (a hand-edited URL must not reach the server). */
export function validDay(text: string | null): string | null {
  if (text === null || !DAY.test(text)) return null;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text ? text : null;
}

/** `1` as the app writes it; `true` as a person might type it. */
const isOn = (text: string | null): boolean => text === '1' || text === 'true';

const isKind = (text: string | null): text is AssetKind => text !== null && (KINDS as readonly string[]).includes(text);

export function readFilters(search: URLSearchParams): Filters {
  const kind = search.get('kind');
  const model = search.get('model')?.trim() ?? '';
  return {
    q: search.get('q') ?? '',
    kind: isKind(kind) ? kind : null,
    model: model === '' ? null : model,
    from: validDay(search.get('from')),
    to: validDay(search.get('to')),
    starred: isOn(search.get('starred')),
  };
}

/** `prev` with the filters replaced (empty ones removed); other keys (`view`, `tab`) are kept. */
export function writeFilters(prev: URLSearchParams, filters: Filters): URLSearchParams {
  const next = new URLSearchParams(prev);
  for (const key of FILTER_KEYS) next.delete(key);
  const values: Record<(typeof FILTER_KEYS)[number], string | null> = {
    q: filters.q.trim() === '' ? null : filters.q,
    kind: filters.kind,
    model: filters.model,
    from: validDay(filters.from),
    to: validDay(filters.to),
    starred: filters.starred ? '1' : null,
  };
  for (const key of FILTER_KEYS) {
    const value = values[key];
    if (value !== null) next.set(key, value);
  }
  return next;
}

export function hasFilters(filters: Filters): boolean {
  return (
    filters.q.trim() !== '' ||
    filters.kind !== null ||
    filters.model !== null ||
    filters.from !== null ||
    filters.to !== null ||
    filters.starred
  );
}

/** What the list query is keyed on: the filters as the server sees them (the search trimmed). */
export function queryFilters(filters: Filters): Filters {
  return { ...filters, q: filters.q.trim() };
}

/**
 * `?group=1`: show a batch's outputs as one stack. A way of showing the list, not a filter: it
 * changes neither the request nor what "Clear filters" clears.
 */
export const GROUP_KEY = 'group';

export function readGrouped(search: URLSearchParams): boolean {
  return search.get(GROUP_KEY) === '1';
}

export function writeGrouped(prev: URLSearchParams, grouped: boolean): URLSearchParams {
  const next = new URLSearchParams(prev);
  if (grouped) next.set(GROUP_KEY, '1');
  else next.delete(GROUP_KEY);
  return next;
}

/** The query string of `GET /api/assets` for one page. */
export function assetListQuery(filters: Filters, cursor: string | null, limit = PAGE_LIMIT): string {
  const search = new URLSearchParams();
  const q = filters.q.trim();
  if (q !== '') search.set('q', q);
  if (filters.kind !== null) search.set('kind', filters.kind);
  if (filters.model !== null) search.set('model', filters.model);
  if (filters.from !== null) search.set('from', filters.from);
  if (filters.to !== null) search.set('to', filters.to);
  if (filters.starred) search.set('starred', 'true');
  if (cursor !== null) search.set('cursor', cursor);
  search.set('limit', String(limit));
  return search.toString();
}

/** `GET /api/assets/download?ids=a,b,c`: a zip the browser downloads itself (never fetched into a blob). */
export function downloadSelectedHref(ids: readonly string[]): string {
  return `/api/assets/download?ids=${ids.map(encodeURIComponent).join(',')}`;
}

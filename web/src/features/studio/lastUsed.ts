/**
 * The model last used and the values typed for it, kept in the browser per user so the next
 * visit starts where the last one stopped. Uploads are not kept: files cannot be stored here, and
 * gallery references may be gone by then. Pure functions, given the storage to use.
 */
import type { Spec } from '../../api/types';
import { initialDraft, isFileField, type Draft, type DraftValue } from './formValues';

/** Longer texts are not kept: a pasted document would fill the browser's small quota. */
export const MAX_STORED_TEXT = 20_000;
const VERSION = 1;

export interface LastUsed {
  endpointId: string;
  draft: Draft;
}

type Store = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** One key per user: people sharing a browser do not get each other's prompts. */
export const lastUsedKey = (userId: string) => `fal-studio:last-used:${userId}`;

function bounded(value: unknown): DraftValue | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value.length > MAX_STORED_TEXT ? undefined : value;
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) return boundDraft(value as Record<string, unknown>);
  return undefined;
}

/** The draft without what should not be stored (texts over `MAX_STORED_TEXT`) or is not a draft value. */
export function boundDraft(draft: Readonly<Record<string, unknown>>): Draft {
  const out: Draft = {};
  for (const [name, value] of Object.entries(draft)) {
    const kept = bounded(value);
    if (kept !== undefined) out[name] = kept;
  }
  return out;
}

export function saveLastUsed(storage: Store, userId: string, lastUsed: LastUsed): void {
  try {
    storage.setItem(lastUsedKey(userId), JSON.stringify({ version: VERSION, endpointId: lastUsed.endpointId, draft: boundDraft(lastUsed.draft) }));
  } catch {
    // Full or refused (private browsing): the next visit simply starts afresh.
  }
}

export function loadLastUsed(storage: Store, userId: string): LastUsed | null {
  let raw: string | null;
  try {
    raw = storage.getItem(lastUsedKey(userId));
  } catch {
    return null;
  }
  if (raw === null) return null;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed !== 'object' || parsed === null) return null;
    const { version, endpointId, draft } = parsed as Record<string, unknown>;
    if (version !== VERSION || typeof endpointId !== 'string' || endpointId === '') return null;
    const values = typeof draft === 'object' && draft !== null && !Array.isArray(draft) ? boundDraft(draft as Record<string, unknown>) : {};
    return { endpointId, draft: values };
  } catch {
    return null;
  }
}

function sameShape(stored: DraftValue, fresh: DraftValue): boolean {
  return typeof stored === typeof fresh;
}

/**
 * The model's defaults with the stored values laid over them, field by field: a field the model
 * no longer has is dropped, one it gained keeps its default, and a value of the wrong kind (the
 * field changed type since) gives way to the default.
 */
export function restoreDraft(spec: Pick<Spec, 'fields'>, stored: Draft): Draft {
  const fresh = initialDraft(spec.fields);
  const out: Draft = { ...fresh };
  for (const field of spec.fields) {
    if (isFileField(field)) continue;
    const value = stored[field.name];
    const initial = fresh[field.name];
    if (value === undefined || initial === undefined || !sameShape(value, initial)) continue;
    out[field.name] = value;
  }
  return out;
}

/** The browser's localStorage, or null where reading it is refused (some private modes). */
export function browserStorage(): Store | null {
  try {
    return typeof window === 'undefined' ? null : window.localStorage;
  } catch {
    return null;
  }
}

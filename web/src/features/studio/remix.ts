/**
 * Arriving from the gallery or the queue: `?remix=<assetId>` or `?remixJob=<jobId>` (the model,
 * its settings and its references filled in; `&seed=same` keeps the seed, else fal picks a new
 * one) and `?reference=<assetId>` (the asset in the model's first image bucket). Pure functions only.
 */
import type { Asset, AssetDetail, BucketName, Job, JobReference, Spec } from '../../api/types';
import { countOf } from '../../lib/words';
import { paramsFor } from './compare';
import { initialDraft, type Draft } from './formValues';
import { storedReferencePart, uploadSlots, type AssetRef, type UploadItem } from './uploads';

/** Whether a remix runs with the seed of what it remixes, or lets fal pick a new one. */
export type SeedChoice = 'same' | 'new';

export interface StudioIntent {
  remix: string | null;
  remixJob: string | null;
  reference: string | null;
  seed: SeedChoice;
}

const idParam = (search: URLSearchParams, key: string) => {
  const value = search.get(key)?.trim() ?? '';
  return value === '' ? null : value;
};

export function readIntent(search: URLSearchParams): StudioIntent {
  return {
    remix: idParam(search, 'remix'),
    remixJob: idParam(search, 'remixJob'),
    reference: idParam(search, 'reference'),
    // A new seed unless asked: a remix is usually for a variation.
    seed: search.get('seed') === 'same' ? 'same' : 'new',
  };
}

/** The URL once a remix has been read: its model selected, one-model mode, no remix left. */
export function afterRemix(prev: URLSearchParams, endpointId: string): URLSearchParams {
  const next = new URLSearchParams(prev);
  next.delete('remix');
  next.delete('remixJob');
  next.delete('seed');
  next.delete('compare');
  next.set('model', endpointId);
  return next;
}

/**
 * The params a remix fills in: the seed the run had (`same`, when it is known) or none, so fal
 * picks one (`new`). A seed typed in the original form counts as known.
 */
export function withSeed(params: Readonly<Record<string, unknown>>, choice: SeedChoice, seed: number | null | undefined): Record<string, unknown> {
  const rest = { ...params };
  const typed = typeof rest.seed === 'number' ? rest.seed : null;
  delete rest.seed;
  const kept = seed ?? typed;
  return choice === 'same' && kept !== null ? { ...rest, seed: kept } : rest;
}

/** The seed a job ran with: fal's answer on its first output that has one, else the one typed. */
export function seedOfJob(job: Job): number | null {
  const answered = job.assets.find((asset) => asset.seed != null)?.seed;
  if (answered != null) return answered;
  return typeof job.params.seed === 'number' ? job.params.seed : null;
}

/** What a remix fills in, read from the asset or job the URL names (`key` tells them apart). */
export interface RemixSource {
  key: string;
  endpointId: string;
  /** The params with the seed already chosen (see `withSeed`). */
  params: Record<string, unknown>;
  references: readonly JobReference[];
  what: 'gallery item' | 'job';
  seedNote: string;
}

function seedNote(choice: SeedChoice, seed: number | null): string {
  if (choice === 'new') return 'New seed: fal picks one.';
  return seed === null ? 'Its seed is not known: fal picks one.' : `Same seed: ${seed}.`;
}

/** The remix the URL asks for, once the asset or job it names has loaded. */
export function remixSource(intent: StudioIntent, asset: AssetDetail | undefined, job: Job | undefined): RemixSource | null {
  if (intent.remix !== null && asset?.id === intent.remix) {
    const seed = asset.seed ?? (typeof asset.params.seed === 'number' ? asset.params.seed : null);
    return {
      key: `asset:${asset.id}`,
      endpointId: asset.endpointId,
      params: withSeed(asset.params, intent.seed, seed),
      references: asset.references,
      what: 'gallery item',
      seedNote: seedNote(intent.seed, seed),
    };
  }
  if (intent.remixJob !== null && job?.id === intent.remixJob) {
    const seed = seedOfJob(job);
    return {
      key: `job:${job.id}`,
      endpointId: job.endpointId,
      params: withSeed(job.params, intent.seed, seed),
      references: job.references,
      what: 'job',
      seedNote: seedNote(intent.seed, seed),
    };
  }
  return null;
}

/** What a remix says once filled in: settings, the references put back and left out, the seed. */
export function remixNotice(
  source: Pick<RemixSource, 'what' | 'seedNote'>,
  restored: { items: Readonly<Record<string, readonly UploadItem[]>>; leftOut: readonly JobReference[] },
): string {
  const back = Object.values(restored.items).reduce((sum, items) => sum + items.length, 0);
  const parts = [`Remix: the settings of the ${source.what} are filled in.`];
  if (back > 0) parts.push(`${countOf(back, 'reference')} back in place (already stored: nothing to upload).`);
  if (restored.leftOut.length > 0) {
    parts.push(`Left out ${restored.leftOut.map((reference) => reference.fileName).join(', ')}: this model has no place for ${restored.leftOut.length === 1 ? 'it' : 'them'}.`);
  }
  parts.push(source.seedNote);
  return parts.join(' ');
}

/** An earlier job's reference as an upload item: sent back by id, never downloaded. */
export function storedRef(reference: JobReference): AssetRef {
  return { id: reference.id, url: reference.url, contentType: reference.contentType, fileName: reference.fileName, source: 'job' };
}

/** The slot of `spec` a stored reference goes back to: its bucket, else the bucket or slot of its field. */
function slotKeyFor(spec: Spec, reference: JobReference): string | null {
  const keys = new Set(uploadSlots(spec).map((slot) => slot.key));
  if (reference.bucket != null && keys.has(reference.bucket)) return reference.bucket;
  const viaField = Object.entries(spec.buckets ?? {}).find(([, target]) => target?.field === reference.field)?.[0];
  if (viaField !== undefined && keys.has(viaField)) return viaField;
  return keys.has(reference.field) ? reference.field : null;
}

/**
 * A job's references put back into `spec`'s upload slots, in their order; those the model has
 * no slot for, or no room for (a one-file slot takes the first), are `leftOut`.
 */
export function restoreReferences(
  spec: Spec,
  references: readonly JobReference[],
  newId: () => string,
): { items: Record<string, UploadItem[]>; leftOut: JobReference[] } {
  const slots = new Map(uploadSlots(spec).map((slot) => [slot.key, slot]));
  const items: Record<string, UploadItem[]> = {};
  const leftOut: JobReference[] = [];
  for (const reference of references) {
    const key = slotKeyFor(spec, reference);
    const slot = key === null ? undefined : slots.get(key);
    const current = key === null ? [] : (items[key] ?? []);
    const room = slot === undefined ? 0 : slot.multiple ? (slot.maxItems ?? Infinity) : 1;
    if (slot === undefined || current.length >= room) {
      leftOut.push(reference);
      continue;
    }
    items[slot.key] = [...current, { id: newId(), asset: storedRef(reference) }];
  }
  return { items, leftOut };
}

/**
 * "Run again": the same request as `job` (model, params, references by id), as the multipart
 * `POST /api/generations` takes; one run, in a group of its own.
 */
export function runAgainForm(job: Job): FormData {
  const form = new FormData();
  form.append('endpoint', job.endpointId);
  form.append('params', JSON.stringify(job.params));
  for (const reference of job.references) form.append(storedReferencePart(reference.bucket ?? reference.field), reference.id);
  return form;
}

/** The URL once a reference has been taken in: no `reference` left, one-model mode. */
export function afterReference(prev: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams(prev);
  next.delete('reference');
  next.delete('compare');
  return next;
}

/** Settings for `spec` from another run's params: what the model takes, and the names it does not. */
export function seedDraft(spec: Spec, params: Readonly<Record<string, unknown>>): { draft: Draft; leftOut: string[] } {
  const { params: taken, leftOut } = paramsFor(spec, params);
  return { draft: initialDraft(spec.fields, taken), leftOut };
}

/** Where a gallery image goes: the first image bucket, `generalReferences` else `firstFrame`. */
export function referenceSlot(spec: Spec): BucketName | null {
  const slots = uploadSlots(spec);
  for (const bucket of ['generalReferences', 'firstFrame'] as const) {
    const slot = slots.find((candidate) => candidate.key === bucket);
    if (slot !== undefined && (slot.accept === 'image' || slot.accept === 'any')) return bucket;
  }
  return null;
}

export function assetRef(asset: Asset): AssetRef {
  return { id: asset.id, url: asset.url, contentType: asset.contentType, fileName: asset.fileName };
}

/**
 * The uploads with the asset added to `slotKey`: appended where the slot takes several (unless
 * it is already there), replacing the current one where it takes one.
 */
export function addReference(
  items: Readonly<Record<string, UploadItem[]>>,
  slotKey: string,
  multiple: boolean,
  item: UploadItem & { asset: AssetRef },
): Record<string, UploadItem[]> {
  const current = items[slotKey] ?? [];
  if (current.some((existing) => existing.asset?.id === item.asset.id)) return { ...items };
  return { ...items, [slotKey]: multiple ? [...current, item] : [item] };
}

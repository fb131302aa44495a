/**
 * Arriving from the gallery: `?remix=<assetId>` (the asset's model, its settings filled in) and
 * `?reference=<assetId>` (the asset in the model's first image bucket). Pure functions only.
 */
import type { Asset, BucketName, Spec } from '../../api/types';
import { paramsFor } from './compare';
import { initialDraft, type Draft } from './formValues';
import { uploadSlots, type AssetRef, type UploadItem } from './uploads';

export interface StudioIntent {
  remix: string | null;
  reference: string | null;
}

const idParam = (search: URLSearchParams, key: string) => {
  const value = search.get(key)?.trim() ?? '';
  return value === '' ? null : value;
};

export function readIntent(search: URLSearchParams): StudioIntent {
  return { remix: idParam(search, 'remix'), reference: idParam(search, 'reference') };
}

/** The URL once a remix has been read: its model selected, one-model mode, no `remix` left. */
export function afterRemix(prev: URLSearchParams, endpointId: string): URLSearchParams {
  const next = new URLSearchParams(prev);
  next.delete('remix');
  next.delete('compare');
  next.set('model', endpointId);
  return next;
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

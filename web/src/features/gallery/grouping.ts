/**
 * "Group batches": the outputs of one generation request (several runs, several images per run)
 * share a `groupId`, and the gallery can show them as one stack. Pure functions only.
 */
import type { Asset } from '../../api/types';

export type GridEntry =
  | { kind: 'single'; asset: Asset }
  /** Two or more assets of one batch, newest first, shown where its newest one was. */
  | { kind: 'batch'; groupId: string; assets: readonly Asset[] };

/**
 * The grid's entries, in the list's order (newest first). Every asset of a batch joins the stack
 * at its newest asset's place, not only the adjacent ones: two batches running at once interleave
 * their outputs, and a batch split across pages must simply grow when the next page comes. A
 * batch with one loaded asset (the rest filtered out, or on a later page) stays a plain tile, and
 * assets without a `groupId` (older than batches, or uploads) are never grouped.
 */
export function groupBatches(list: readonly Asset[]): GridEntry[] {
  const members = new Map<string, Asset[]>();
  for (const asset of list) {
    const groupId = asset.groupId ?? null;
    if (groupId === null) continue;
    const batch = members.get(groupId);
    if (batch === undefined) members.set(groupId, [asset]);
    else batch.push(asset);
  }
  const entries: GridEntry[] = [];
  const placed = new Set<string>();
  for (const asset of list) {
    const groupId = asset.groupId ?? null;
    const batch = groupId === null ? undefined : members.get(groupId);
    if (groupId === null || batch === undefined || batch.length < 2) {
      entries.push({ kind: 'single', asset });
    } else if (!placed.has(groupId)) {
      placed.add(groupId);
      entries.push({ kind: 'batch', groupId, assets: batch });
    }
  }
  return entries;
}

/** The ids in the order the grid shows them: what the viewer steps through and shift-click ranges over. */
export function entryOrder(entries: readonly GridEntry[]): string[] {
  return entries.flatMap((entry) => (entry.kind === 'single' ? [entry.asset.id] : entry.assets.map((asset) => asset.id)));
}

/** The first `count` words of a prompt, with an ellipsis when there were more: a batch's heading. */
export function firstWords(text: string | null | undefined, count = 6): string {
  const words = (text ?? '').trim().split(/\s+/).filter((word) => word !== '');
  return words.length > count ? `${words.slice(0, count).join(' ')}…` : words.join(' ');
}

/**
 * What a batch is called: its model, or for a batch of several models (a compare run)
 * "Compare: 3 models", with the models' names (oldest first, each once) for a fuller description.
 */
export function batchName(assets: readonly Asset[]): { name: string; models: string[] } {
  const models = new Map<string, string>();
  for (const asset of [...assets].reverse()) {
    if (!models.has(asset.endpointId)) models.set(asset.endpointId, asset.model.trim() === '' ? asset.endpointId : asset.model);
  }
  const names = [...models.values()];
  if (names.length <= 1) return { name: names[0] ?? assets[0]?.model ?? '', models: names };
  return { name: `Compare: ${names.length} models`, models: names };
}

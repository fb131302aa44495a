/**
 * Select mode's pure logic: a click toggles one asset, a shift-click selects the range from the
 * last clicked one (the anchor) in the order the grid shows, "Select all loaded" takes every
 * loaded id, and deleted assets leave the selection.
 */
export interface Selection {
  ids: ReadonlySet<string>;
  /** The last plainly clicked id: where a shift-click range starts. */
  anchor: string | null;
}

export const EMPTY_SELECTION: Selection = { ids: new Set(), anchor: null };

export function toggleOne(selection: Selection, id: string): Selection {
  const ids = new Set(selection.ids);
  if (ids.has(id)) ids.delete(id);
  else ids.add(id);
  return { ids, anchor: id };
}

/**
 * A shift-click on `id`: every id between the anchor and `id` (both included, in `order`) is
 * selected; without an anchor still in the list it is a plain toggle. The anchor stays put so a
 * second shift-click re-ranges from the same start.
 */
export function selectRange(selection: Selection, id: string, order: readonly string[]): Selection {
  const from = selection.anchor === null ? -1 : order.indexOf(selection.anchor);
  const to = order.indexOf(id);
  if (from === -1 || to === -1) return toggleOne(selection, id);
  const [start, end] = from <= to ? [from, to] : [to, from];
  const ids = new Set(selection.ids);
  for (const each of order.slice(start, end + 1)) ids.add(each);
  return { ids, anchor: selection.anchor };
}

export function clickTile(selection: Selection, id: string, shift: boolean, order: readonly string[]): Selection {
  return shift ? selectRange(selection, id, order) : toggleOne(selection, id);
}

/**
 * A click on a collapsed batch: its assets go in together, or come out together when all of them
 * were in. A shift-click also takes the range from the anchor up to the batch.
 */
export function clickBatch(selection: Selection, ids: readonly string[], shift: boolean, order: readonly string[]): Selection {
  const first = ids[0];
  if (first === undefined) return selection;
  if (shift && selection.anchor !== null && order.includes(selection.anchor)) {
    const ranged = selectRange(selection, first, order);
    return { ids: new Set([...ranged.ids, ...ids]), anchor: ranged.anchor };
  }
  const all = ids.every((id) => selection.ids.has(id));
  const next = new Set(selection.ids);
  for (const id of ids) {
    if (all) next.delete(id);
    else next.add(id);
  }
  return { ids: next, anchor: first };
}

export function selectAll(selection: Selection, order: readonly string[]): Selection {
  return { ids: new Set([...selection.ids, ...order]), anchor: selection.anchor };
}

/** Drops ids that are gone (deleted, or no longer loaded), keeping the grid's order for the rest. */
export function keepOnly(selection: Selection, present: readonly string[]): Selection {
  const here = new Set(present);
  const ids = new Set([...selection.ids].filter((id) => here.has(id)));
  const anchor = selection.anchor !== null && here.has(selection.anchor) ? selection.anchor : null;
  return ids.size === selection.ids.size && anchor === selection.anchor ? selection : { ids, anchor };
}

/** The selected ids in grid order (for the zip link and the delete request). */
export function selectedInOrder(selection: Selection, order: readonly string[]): string[] {
  return order.filter((id) => selection.ids.has(id));
}

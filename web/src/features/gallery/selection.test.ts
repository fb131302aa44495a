import { describe, expect, it } from 'vitest';
import { clickTile, EMPTY_SELECTION, keepOnly, selectAll, selectedInOrder, selectRange, toggleOne, type Selection } from './selection';

const order = ['a', 'b', 'c', 'd', 'e'];
const ids = (selection: Selection) => selectedInOrder(selection, order);

describe('select mode', () => {
  it('toggles one tile per click and remembers it as the anchor', () => {
    let selection = toggleOne(EMPTY_SELECTION, 'b');
    expect(ids(selection)).toEqual(['b']);
    expect(selection.anchor).toBe('b');
    selection = toggleOne(selection, 'd');
    selection = toggleOne(selection, 'b');
    expect(ids(selection)).toEqual(['d']);
  });

  it('selects a range on shift-click, in either direction, from the anchor', () => {
    const start = clickTile(EMPTY_SELECTION, 'b', false, order);
    expect(ids(clickTile(start, 'd', true, order))).toEqual(['b', 'c', 'd']);
    const back = clickTile(EMPTY_SELECTION, 'e', false, order);
    expect(ids(clickTile(back, 'c', true, order))).toEqual(['c', 'd', 'e']);
    // The anchor stays, so a second shift-click re-ranges from the same start (adding).
    const twice = clickTile(clickTile(start, 'c', true, order), 'e', true, order);
    expect(ids(twice)).toEqual(['b', 'c', 'd', 'e']);
  });

  it('treats a shift-click without an anchor as a plain toggle', () => {
    expect(ids(selectRange(EMPTY_SELECTION, 'c', order))).toEqual(['c']);
    expect(ids(selectRange({ ids: new Set(), anchor: 'gone' }, 'c', order))).toEqual(['c']);
  });

  it('selects every loaded tile', () => {
    expect(ids(selectAll(toggleOne(EMPTY_SELECTION, 'a'), order))).toEqual(order);
  });

  it('drops deleted ids and keeps the same object when nothing changed', () => {
    const selection = selectAll(EMPTY_SELECTION, ['a', 'b', 'c']);
    expect(keepOnly(selection, order)).toBe(selection);
    const after = keepOnly({ ...selection, anchor: 'b' }, ['a', 'c']);
    expect([...after.ids]).toEqual(['a', 'c']);
    expect(after.anchor).toBeNull();
  });
});

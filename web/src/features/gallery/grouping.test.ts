import { describe, expect, it } from 'vitest';
import type { Asset } from '../../api/types';
import { readGrouped, readFilters, writeFilters, writeGrouped, NO_FILTERS } from './filters';
import { batchName, entryOrder, firstWords, groupBatches, type GridEntry } from './grouping';
import { clickBatch, EMPTY_SELECTION, selectedInOrder, toggleOne } from './selection';

/** `undefined` leaves `groupId` out, as a server from before batches did. */
function asset(id: string, groupId: string | null | undefined): Asset {
  return {
    id,
    endpointId: 'fal-ai/flux/dev',
    model: 'FLUX.1 [dev]',
    prompt: `prompt ${id}`,
    resultKind: 'image',
    storageMode: 'local',
    url: `/files/${id}`,
    downloadUrl: `/files/${id}?download=1`,
    contentType: 'image/png',
    byteSize: 1,
    fileName: `${id}.png`,
    params: {},
    createdAt: '2026-11-25T10:00:00Z',
    starred: false,
    ...(groupId === undefined ? {} : { groupId }),
  };
}

/** `a1` for a single, `[g: a1 a2]` for a batch. */
const shape = (entries: GridEntry[]) =>
  entries.map((entry) => (entry.kind === 'single' ? entry.asset.id : `[${entry.groupId}: ${entry.assets.map((a) => a.id).join(' ')}]`));

describe('grouping a batch', () => {
  it('stacks adjacent outputs of one batch and leaves the rest alone', () => {
    const list = [asset('a1', 'g1'), asset('a2', 'g1'), asset('a3', 'g1'), asset('b1', 'g2'), asset('c1', null)];
    expect(shape(groupBatches(list))).toEqual(['[g1: a1 a2 a3]', 'b1', 'c1']);
  });

  it('never groups assets without a batch, even side by side', () => {
    const list = [asset('a1', null), asset('a2', null), asset('a3', undefined), asset('a4', undefined)];
    expect(shape(groupBatches(list))).toEqual(['a1', 'a2', 'a3', 'a4']);
  });

  it('gathers interleaved batches at their newest output, keeping each batch newest first', () => {
    const list = [asset('a1', 'g1'), asset('b1', 'g2'), asset('a2', 'g1'), asset('x', null), asset('b2', 'g2')];
    const entries = groupBatches(list);
    expect(shape(entries)).toEqual(['[g1: a1 a2]', '[g2: b1 b2]', 'x']);
    expect(entryOrder(entries)).toEqual(['a1', 'a2', 'b1', 'b2', 'x']);
  });

  it('lets a batch split across pages grow when the next page arrives', () => {
    const first = [asset('x', null), asset('a1', 'g1')];
    expect(shape(groupBatches(first))).toEqual(['x', 'a1']);
    const both = [...first, asset('a2', 'g1'), asset('a3', 'g1'), asset('y', 'g9')];
    expect(shape(groupBatches(both))).toEqual(['x', '[g1: a1 a2 a3]', 'y']);
  });

  it('heads a batch with the first words of its prompt', () => {
    expect(firstWords('  a red   fox in the snow at dawn ')).toBe('a red fox in the snow…');
    expect(firstWords('a red fox', 6)).toBe('a red fox');
    expect(firstWords(null)).toBe('');
  });
});

describe('selecting a collapsed batch', () => {
  const order = ['x', 'a1', 'a2', 'a3', 'y'];
  const batch = ['a1', 'a2', 'a3'];

  it('takes the whole batch in, and out again once all of it is in', () => {
    let selection = clickBatch(EMPTY_SELECTION, batch, false, order);
    expect(selectedInOrder(selection, order)).toEqual(batch);
    selection = clickBatch(toggleOne(selection, 'a2'), batch, false, order);
    expect(selectedInOrder(selection, order)).toEqual(batch);
    selection = clickBatch(selection, batch, false, order);
    expect(selectedInOrder(selection, order)).toEqual([]);
  });

  it('ranges from the anchor on shift-click, from either side', () => {
    expect(selectedInOrder(clickBatch(toggleOne(EMPTY_SELECTION, 'x'), batch, true, order), order)).toEqual(['x', ...batch]);
    expect(selectedInOrder(clickBatch(toggleOne(EMPTY_SELECTION, 'y'), batch, true, order), order)).toEqual([...batch, 'y']);
  });
});

describe('the grouping in the URL', () => {
  it('is kept apart from the filters', () => {
    const search = writeGrouped(new URLSearchParams('q=fox'), true);
    expect(search.toString()).toBe('q=fox&group=1');
    expect(readGrouped(search)).toBe(true);
    expect(readGrouped(writeFilters(search, NO_FILTERS))).toBe(true);
    expect(readFilters(search)).toEqual({ ...NO_FILTERS, q: 'fox' });
    expect(writeGrouped(search, false).toString()).toBe('q=fox');
    expect(readGrouped(new URLSearchParams('group=yes'))).toBe(false);
  });
});

describe('batchName', () => {
  const of = (id: string, endpointId: string, model: string): Asset => ({ ...asset(id, 'g'), endpointId, model });

  it('is the model of a one-model batch', () => {
    expect(batchName([of('a2', 'fal-ai/veo3', 'Veo 3'), of('a1', 'fal-ai/veo3', 'Veo 3')])).toEqual({ name: 'Veo 3', models: ['Veo 3'] });
  });

  it('says "Compare" for a batch of several models, each named once, oldest first', () => {
    expect(
      batchName([of('a3', 'fal-ai/veo3', 'Veo 3'), of('a2', 'fal-ai/kling', 'Kling 2.1'), of('a1', 'fal-ai/veo3', 'Veo 3')]),
    ).toEqual({ name: 'Compare: 2 models', models: ['Veo 3', 'Kling 2.1'] });
  });

  it('falls back on the endpoint when a model has no name', () => {
    expect(batchName([of('a2', 'fal-ai/x', ''), of('a1', 'fal-ai/y', 'Y')]).models).toEqual(['Y', 'fal-ai/x']);
  });
});

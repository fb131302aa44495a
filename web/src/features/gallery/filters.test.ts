import { describe, expect, it } from 'vitest';
import { assetListQuery, downloadSelectedHref, hasFilters, NO_FILTERS, readFilters, validDay, writeFilters, type Filters } from './filters';
import { describeShare, formatValue, humanKey, paramEntries } from './format';

describe('gallery filters in the URL', () => {
  it('round-trips every filter through the query string', () => {
    const filters: Filters = { q: 'red fox', kind: 'image', model: 'fal-ai/flux/dev', from: '2026-11-01', to: '2026-11-30', starred: true };
    const search = writeFilters(new URLSearchParams(), filters);
    expect(search.toString()).toBe('q=red+fox&kind=image&model=fal-ai%2Fflux%2Fdev&from=2026-11-01&to=2026-11-30&starred=1');
    expect(readFilters(new URLSearchParams(search.toString()))).toEqual(filters);
  });

  it('keeps other keys (the open viewer, the tab) and removes cleared filters', () => {
    const prev = new URLSearchParams('q=fox&kind=video&view=a1&tab=x');
    const next = writeFilters(prev, { ...readFilters(prev), q: '  ', kind: null });
    expect(next.get('view')).toBe('a1');
    expect(next.get('tab')).toBe('x');
    expect(next.has('q')).toBe(false);
    expect(next.has('kind')).toBe(false);
  });

  it('ignores hand-edited values the server would refuse', () => {
    expect(readFilters(new URLSearchParams('kind=3d&from=2026-02-30&to=yesterday&model=%20'))).toEqual(NO_FILTERS);
    expect(validDay('2028-02-29')).toBe('2028-02-29');
    expect(validDay('2026-13-01')).toBeNull();
  });

  it('says whether any filter is on', () => {
    expect(hasFilters(NO_FILTERS)).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, q: ' ' })).toBe(false);
    expect(hasFilters({ ...NO_FILTERS, to: '2026-11-01' })).toBe(true);
    expect(hasFilters({ ...NO_FILTERS, starred: true })).toBe(true);
  });

  it('keeps "Starred" in the URL as starred=1, reads starred=true too, and drops it when off', () => {
    expect(readFilters(new URLSearchParams('starred=1')).starred).toBe(true);
    expect(readFilters(new URLSearchParams('starred=true')).starred).toBe(true);
    expect(readFilters(new URLSearchParams('starred=0')).starred).toBe(false);
    expect(readFilters(new URLSearchParams('starred=yes')).starred).toBe(false);
    const off = writeFilters(new URLSearchParams('starred=1&view=a1'), { ...NO_FILTERS, starred: false });
    expect(off.toString()).toBe('view=a1');
  });

  it('builds the list request with the cursor and the page size', () => {
    expect(assetListQuery({ ...NO_FILTERS, q: ' whale ', kind: 'audio' }, 'c2')).toBe('q=whale&kind=audio&cursor=c2&limit=60');
    expect(assetListQuery(NO_FILTERS, null)).toBe('limit=60');
    // The server's own word for the starred-only list.
    expect(assetListQuery({ ...NO_FILTERS, starred: true, kind: 'image' }, 'c3')).toBe('kind=image&starred=true&cursor=c3&limit=60');
  });

  it('links the zip of the selection with every id, comma-separated', () => {
    expect(downloadSelectedHref(['a', 'b/c'])).toBe('/api/assets/download?ids=a,b%2Fc');
  });
});

describe('metadata text', () => {
  it('writes parameters as readable pairs, without the prompt or empty values', () => {
    expect(
      paramEntries({ prompt: 'x', num_inference_steps: 28, sync_mode: false, image_size: { width: 1024, height: 768 }, loras: [], seed: null }),
    ).toEqual([
      ['Num inference steps', '28'],
      ['Sync mode', 'no'],
      ['Image size', '1024 × 768'],
    ]);
    // Anything else shaped like an object still lists its parts.
    expect(formatValue({ width: 1024, height: 768, unit: 'px' }, 'image_size')).toBe('width: 1024, height: 768, unit: Px');
    expect(humanKey('guidanceScale')).toBe('Guidance scale');
    expect(formatValue(['a', 1, true])).toBe('a, 1, yes');
  });

  it('describes a share link’s options', () => {
    const share = {
      token: 't',
      url: 'https://studio.example/s/t',
      assetId: 'a',
      createdAt: '2026-11-25T10:00:00Z',
      expiresAt: null,
      allowDownload: false,
      showPrompt: true,
      hasPassword: true,
      asset: { id: 'a', resultKind: 'image' as const, model: 'm', url: '/files/a' },
    };
    expect(describeShare(share)).toBe('never expires · no download · prompt shown · password');
  });
});

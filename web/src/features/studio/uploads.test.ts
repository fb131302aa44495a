import { describe, expect, it } from 'vitest';
import type { Spec } from '../../api/types';
import { buildGenerationForm, carryUploads, checkUploads, itemName, uploadSlots, type UploadItem, type Uploads } from './uploads';
import { kontext, nanoBananaEdit, png, seedreamT2I, veoFirstLast } from './test/specs';

const items = (...names: string[]): UploadItem[] => names.map((name) => ({ id: name, file: png(name) }));
const namesOf = (uploads: Record<string, UploadItem[]>) =>
  Object.fromEntries(Object.entries(uploads).map(([key, list]) => [key, list.map(itemName)]));

const withMask = (spec: Spec): Spec => ({
  ...spec,
  fields: [...spec.fields, { name: 'mask_url', type: 'file', required: false, title: 'Mask', group: 'main', accept: 'image' }],
});

describe('uploadSlots', () => {
  it('gives one panel per bucket, then one per file field no bucket targets', () => {
    expect(uploadSlots(veoFirstLast).map((slot) => [slot.key, slot.label, slot.multiple, slot.required])).toEqual([
      ['firstFrame', 'First frame', false, true],
      ['lastFrame', 'Last frame', false, true],
      ['mask_url', 'Mask', false, false],
    ]);
    expect(uploadSlots(seedreamT2I)).toEqual([]);
  });

  it('reports missing required uploads', () => {
    expect(checkUploads(uploadSlots(kontext), {})).toEqual({ generalReferences: 'Add a file.' });
    expect(checkUploads(uploadSlots(kontext), { generalReferences: items('a.png') })).toEqual({});
  });
});

describe('carryUploads', () => {
  const cases: {
    name: string;
    prev: Spec | null;
    next: Spec;
    uploads: Uploads;
    kept: Record<string, string[]>;
    dropped: string[];
  }[] = [
    {
      name: 'a reference survives image_url → image_urls',
      prev: kontext,
      next: nanoBananaEdit,
      uploads: { generalReferences: items('a.png') },
      kept: { generalReferences: ['a.png'] },
      dropped: [],
    },
    {
      name: 'several references shrink to one on a single-image model',
      prev: nanoBananaEdit,
      next: kontext,
      uploads: { generalReferences: items('a.png', 'b.png', 'c.png') },
      kept: { generalReferences: ['a.png'] },
      dropped: ['Dropped 2 references: this model takes only one.'],
    },
    {
      name: 'references are dropped by a text-to-image model',
      prev: nanoBananaEdit,
      next: seedreamT2I,
      uploads: { generalReferences: items('a.png', 'b.png') },
      kept: {},
      dropped: ['Dropped 2 references: this model takes no reference images.'],
    },
    {
      name: 'frames are dropped, one notice each',
      prev: veoFirstLast,
      next: kontext,
      uploads: { firstFrame: items('f.png'), lastFrame: items('l.png') },
      kept: {},
      dropped: ['Dropped 1 first frame: this model takes no first frame.', 'Dropped 1 last frame: this model takes no last frame.'],
    },
    {
      name: 'an own-name file field is kept when the next spec has a file field of that name',
      prev: veoFirstLast,
      next: withMask(kontext),
      uploads: { mask_url: items('m.png') },
      kept: { mask_url: ['m.png'] },
      dropped: [],
    },
    {
      name: 'an own-name file field is dropped otherwise',
      prev: veoFirstLast,
      next: kontext,
      uploads: { mask_url: items('m.png') },
      kept: {},
      dropped: ['Dropped 1 file for “Mask”: this model takes no “Mask” file.'],
    },
    {
      name: 'empty slots say nothing',
      prev: kontext,
      next: seedreamT2I,
      uploads: { generalReferences: [] },
      kept: {},
      dropped: [],
    },
    {
      name: 'the first model has nothing to carry',
      prev: null,
      next: kontext,
      uploads: {},
      kept: {},
      dropped: [],
    },
  ];
  it.each(cases)('$name', ({ prev, next, uploads, kept, dropped }) => {
    const result = carryUploads(prev, next, uploads);
    expect(namesOf(result.kept)).toEqual(kept);
    expect(result.dropped.map((drop) => drop.message)).toEqual(dropped);
  });
});

describe('buildGenerationForm', () => {
  it('puts the endpoint, the params as JSON and each file under its slot key', () => {
    const uploads = {
      generalReferences: items('a.png', 'b.png'),
      firstFrame: items('f.png'),
      mask_url: items('m.png'),
      lastFrame: [],
    };
    const form = buildGenerationForm('fal-ai/x', { prompt: 'a cat', num_images: 2 }, uploads);
    expect(form.get('endpoint')).toBe('fal-ai/x');
    expect(JSON.parse(form.get('params') as string)).toEqual({ prompt: 'a cat', num_images: 2 });
    expect(form.getAll('generalReferences').map((file) => (file as File).name)).toEqual(['a.png', 'b.png']);
    expect((form.get('firstFrame') as File).name).toBe('f.png');
    expect((form.get('mask_url') as File).name).toBe('m.png');
    expect(form.has('lastFrame')).toBe(false);
    expect([...form.keys()]).toEqual(['endpoint', 'params', 'generalReferences', 'generalReferences', 'firstFrame', 'mask_url']);
  });

  it('puts count, groupId and groupLabel before the files, and leaves out empty ones', () => {
    const form = buildGenerationForm('fal-ai/x', {}, { generalReferences: items('a.png') }, { count: 3, groupId: null, groupLabel: 'Compare: a cat' });
    expect([...form.keys()]).toEqual(['endpoint', 'params', 'count', 'groupLabel', 'generalReferences']);
    expect(form.get('count')).toBe('3');
  });

  it('sends gallery assets as `reference:<slot>` text parts (their ids) before any file', () => {
    const fromGallery: UploadItem = {
      id: 'r1',
      asset: { id: '0193-asset', url: '/files/0193-asset', contentType: 'image/png', fileName: 'fox.png' },
    };
    const form = buildGenerationForm('fal-ai/x', {}, { generalReferences: [...items('a.png'), fromGallery], firstFrame: items('f.png') });
    expect([...form.keys()]).toEqual(['endpoint', 'params', 'reference:generalReferences', 'generalReferences', 'firstFrame']);
    expect(form.get('reference:generalReferences')).toBe('0193-asset');
    expect(form.getAll('generalReferences')).toHaveLength(1);
  });

  it('carries a gallery asset across a switch like a file', () => {
    const fromGallery: UploadItem = { id: 'r1', asset: { id: 'a', url: '/files/a', contentType: 'image/png', fileName: 'fox.png' } };
    const { kept } = carryUploads(kontext, nanoBananaEdit, { generalReferences: [fromGallery] });
    expect(namesOf(kept)).toEqual({ generalReferences: ['fox.png'] });
  });

  it('sends an empty params object when nothing is set', () => {
    expect(buildGenerationForm('fal-ai/x', {}, {}).get('params')).toBe('{}');
  });
});

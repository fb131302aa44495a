import { describe, expect, it } from 'vitest';
import {
  addReference,
  afterReference,
  afterRemix,
  assetRef,
  readIntent,
  referenceSlot,
  remixNotice,
  remixSource,
  restoreReferences,
  runAgainForm,
  seedDraft,
  seedOfJob,
  withSeed,
} from './remix';
import { toParams } from './formValues';
import { asset, job } from './test/jobs';
import { kontext, nanoBananaEdit, seedreamT2I, veoFirstLast } from './test/specs';
import { buildGenerationForm } from './uploads';
import type { JobReference, Spec } from '../../api/types';

describe('arriving from the gallery', () => {
  it('reads ?remix=, ?remixJob= and ?reference=, ignoring empty values; a new seed unless asked', () => {
    expect(readIntent(new URLSearchParams('remix=a1&reference=%20'))).toEqual({ remix: 'a1', remixJob: null, reference: null, seed: 'new' });
    expect(readIntent(new URLSearchParams('remixJob=j1&seed=same'))).toEqual({ remix: null, remixJob: 'j1', reference: null, seed: 'same' });
  });

  it('selects the remixed model and leaves one-model mode without the remix parameter', () => {
    const next = afterRemix(new URLSearchParams('remix=a1&compare=x,y&model=old'), 'fal-ai/flux-pro/kontext');
    expect(next.toString()).toBe('model=fal-ai%2Fflux-pro%2Fkontext');
    expect(afterRemix(new URLSearchParams('remixJob=j1&seed=same'), 'm').toString()).toBe('model=m');
    expect(afterReference(new URLSearchParams('model=m&reference=a1')).toString()).toBe('model=m');
  });

  it('fills a model’s form from an asset’s params, leaving out what it does not take', () => {
    const { draft, leftOut } = seedDraft(kontext, { prompt: 'a red fox', num_images: 2, seed: 42, strength: 0.5 });
    expect(leftOut).toEqual(['strength']);
    expect(toParams(kontext.fields, draft)).toEqual({ prompt: 'a red fox', num_images: 2, seed: 42, output_format: 'jpeg', sync_mode: false, guidance_scale: 3.5 });
  });

  it('restores a custom object value into an enum-or-custom field', () => {
    const { draft } = seedDraft(seedreamT2I, { prompt: 'x', image_size: { width: 1024, height: 512 } });
    expect(toParams(seedreamT2I.fields, draft).image_size).toEqual({ width: 1024, height: 512 });
  });

  it('puts a reference in generalReferences, else firstFrame, else nowhere', () => {
    expect(referenceSlot(nanoBananaEdit)).toBe('generalReferences');
    expect(referenceSlot(veoFirstLast)).toBe('firstFrame');
    expect(referenceSlot(seedreamT2I)).toBeNull();
    const videoOnly: Spec = { ...veoFirstLast, buckets: {}, fields: [{ name: 'video_url', type: 'file', required: true, group: 'main', accept: 'video' }] };
    expect(referenceSlot(videoOnly)).toBeNull();
  });

  it('appends to a multi-file bucket once, and replaces in a single-file one', () => {
    const ref = assetRef(asset({ id: 'g1', contentType: 'image/png' }));
    const file = { id: 'f', file: new File(['x'], 'x.png', { type: 'image/png' }) };
    const multiple = addReference({ generalReferences: [file] }, 'generalReferences', true, { id: 'r', asset: ref });
    expect(multiple.generalReferences?.map((item) => item.id)).toEqual(['f', 'r']);
    expect(addReference(multiple, 'generalReferences', true, { id: 'r2', asset: ref }).generalReferences).toHaveLength(2);
    expect(addReference({ firstFrame: [file] }, 'firstFrame', false, { id: 'r', asset: ref }).firstFrame?.map((i) => i.id)).toEqual(['r']);
  });

  it('names a gallery reference after its file', () => {
    expect(assetRef(asset({ id: 'g1', fileName: 'fox.png' })).fileName).toBe('fox.png');
  });
});

const reference = (extra: Partial<JobReference> = {}): JobReference => ({
  id: 'ref-1',
  field: 'image_url',
  bucket: 'generalReferences',
  url: '/files/references/ref-1',
  contentType: 'image/png',
  fileName: 'fox.png',
  byteSize: 68,
  ...extra,
});

describe('remix brings everything back', () => {
  it('puts a job’s references back in their buckets, as stored files sent by id', () => {
    let n = 0;
    const { items, leftOut } = restoreReferences(nanoBananaEdit, [reference(), reference({ id: 'ref-2', fileName: 'owl.png', field: 'image_urls' })], () => `u${++n}`);
    expect(leftOut).toEqual([]);
    expect(items.generalReferences?.map((item) => [item.id, item.asset?.id, item.asset?.source, item.asset?.fileName])).toEqual([
      ['u1', 'ref-1', 'job', 'fox.png'],
      ['u2', 'ref-2', 'job', 'owl.png'],
    ]);
    const form = buildGenerationForm(nanoBananaEdit.endpointId, { prompt: 'x' }, items);
    expect(form.getAll('storedReference:generalReferences')).toEqual(['ref-1', 'ref-2']);
    expect(form.has('reference:generalReferences')).toBe(false);
  });

  it('finds the slot by field when the bucket is unknown, and leaves out what does not fit', () => {
    const { items, leftOut } = restoreReferences(kontext, [reference({ bucket: null }), reference({ id: 'ref-2', fileName: 'owl.png' })], () => 'u');
    expect(items.generalReferences?.map((item) => item.asset?.id)).toEqual(['ref-1']);
    expect(leftOut.map((r) => r.fileName)).toEqual(['owl.png']);
    expect(restoreReferences(seedreamT2I, [reference()], () => 'u')).toEqual({ items: {}, leftOut: [reference()] });
  });

  it('keeps the gallery asset part for gallery items beside stored references', () => {
    const form = buildGenerationForm(kontext.endpointId, {}, { generalReferences: [{ id: 'a', asset: assetRef(asset({ id: 'g1' })) }] });
    expect(form.get('reference:generalReferences')).toBe('g1');
  });

  it('sets the seed on "same seed", clears it on "new seed"', () => {
    expect(withSeed({ prompt: 'p', seed: 7 }, 'new', 1234)).toEqual({ prompt: 'p' });
    expect(withSeed({ prompt: 'p' }, 'same', 1234)).toEqual({ prompt: 'p', seed: 1234 });
    expect(withSeed({ prompt: 'p', seed: 7 }, 'same', null)).toEqual({ prompt: 'p', seed: 7 });
    expect(withSeed({ prompt: 'p' }, 'same', null)).toEqual({ prompt: 'p' });
    const { draft } = seedDraft(kontext, withSeed({ prompt: 'a fox' }, 'same', 1234));
    expect(toParams(kontext.fields, draft).seed).toBe(1234);
    expect(toParams(kontext.fields, seedDraft(kontext, withSeed({ prompt: 'a fox', seed: 9 }, 'new', 1234)).draft).seed).toBeUndefined();
  });

  it('reads a job’s seed from fal’s answer, else from what was typed', () => {
    expect(seedOfJob(job({ assets: [asset({ seed: null }), asset({ seed: 1234 })] }))).toBe(1234);
    expect(seedOfJob(job({ params: { prompt: 'p', seed: 5 } }))).toBe(5);
    expect(seedOfJob(job())).toBeNull();
  });

  it('remixes an asset or a job once it has loaded, with the seed chosen', () => {
    const detail = { ...asset({ id: 'g1', endpointId: kontext.endpointId, seed: 1234, params: { prompt: 'p' } }), job: null, references: [reference()] };
    const fromAsset = remixSource(readIntent(new URLSearchParams('remix=g1&seed=same')), detail, undefined);
    expect(fromAsset).toMatchObject({ key: 'asset:g1', endpointId: kontext.endpointId, params: { prompt: 'p', seed: 1234 }, what: 'gallery item' });
    expect(fromAsset?.references).toHaveLength(1);
    const cancelled = job({ id: 'j1', status: 'cancelled', params: { prompt: 'p', seed: 3 } });
    expect(remixSource(readIntent(new URLSearchParams('remixJob=j1')), undefined, cancelled)).toMatchObject({ key: 'job:j1', params: { prompt: 'p' }, seedNote: 'New seed: fal picks one.' });
    expect(remixSource(readIntent(new URLSearchParams('remixJob=j2')), undefined, cancelled)).toBeNull();
  });

  it('says what came back, what was left out, and which seed', () => {
    const text = remixNotice(
      { what: 'job', seedNote: 'Same seed: 1234.' },
      { items: { generalReferences: [{ id: 'u', asset: { id: 'r', url: '/x', contentType: 'image/png', fileName: 'fox.png', source: 'job' } }] }, leftOut: [reference({ fileName: 'owl.png' })] },
    );
    expect(text).toBe('Remix: the settings of the job are filled in. 1 reference back in place (already stored: nothing to upload). Left out owl.png: this model has no place for it. Same seed: 1234.');
  });

  it('runs a job again as it was: its model, params and references by id', () => {
    const form = runAgainForm(
      job({ endpointId: kontext.endpointId, status: 'cancelled', params: { prompt: 'p', seed: 3 }, references: [reference(), reference({ id: 'ref-9', bucket: null, field: 'mask_url' })] }),
    );
    expect(form.get('endpoint')).toBe(kontext.endpointId);
    expect(JSON.parse(String(form.get('params')))).toEqual({ prompt: 'p', seed: 3 });
    expect(form.get('storedReference:generalReferences')).toBe('ref-1');
    expect(form.get('storedReference:mask_url')).toBe('ref-9');
  });
});

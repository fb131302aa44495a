import { describe, expect, it } from 'vitest';
import { addReference, afterReference, afterRemix, assetRef, readIntent, referenceSlot, seedDraft } from './remix';
import { toParams } from './formValues';
import { asset } from './test/jobs';
import { kontext, nanoBananaEdit, seedreamT2I, veoFirstLast } from './test/specs';
import type { Spec } from '../../api/types';

describe('arriving from the gallery', () => {
  it('reads ?remix= and ?reference=, ignoring empty values', () => {
    expect(readIntent(new URLSearchParams('remix=a1&reference=%20'))).toEqual({ remix: 'a1', reference: null });
  });

  it('selects the remixed model and leaves one-model mode without the remix parameter', () => {
    const next = afterRemix(new URLSearchParams('remix=a1&compare=x,y&model=old'), 'fal-ai/flux-pro/kontext');
    expect(next.toString()).toBe('model=fal-ai%2Fflux-pro%2Fkontext');
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

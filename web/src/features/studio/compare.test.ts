import { describe, expect, it } from 'vitest';
import type { Spec } from '../../api/types';
import { compareLabel, compareSlots, leftOutLabels, paramsFor, uploadsFor } from './compare';
import { kontext, nanoBananaEdit, png, seedreamT2I, veoFirstLast } from './test/specs';

const shared = { prompt: 'a red fox', num_images: 2, image_size: 'square_hd', guidance_scale: 4, output_format: 'png' };

describe('paramsFor: each model gets only the params its spec names', () => {
  it.each<[string, Spec, Record<string, unknown>, string[], string[]]>([
    ['the same model keeps everything but unknown names', seedreamT2I, { prompt: 'a red fox', num_images: 2, image_size: 'square_hd' }, ['guidance_scale', 'output_format'], []],
    ['kontext drops image_size', kontext, { prompt: 'a red fox', num_images: 2, guidance_scale: 4, output_format: 'png' }, ['image_size'], []],
    ['nano banana keeps only the prompt', nanoBananaEdit, { prompt: 'a red fox' }, ['num_images', 'image_size', 'guidance_scale', 'output_format'], []],
  ])('%s', (_case, spec, params, leftOut, missing) => {
    expect(paramsFor(spec, shared)).toEqual({ params, leftOut, missing });
  });

  it('names the required fields the form does not set (file fields are uploads, not params)', () => {
    expect(paramsFor(kontext, { num_images: 1 }).missing).toEqual(['Prompt']);
    expect(paramsFor(veoFirstLast, { prompt: 'x' }).missing).toEqual([]);
  });
});

describe('uploadsFor: each model gets the buckets it takes', () => {
  const a = { id: 'a', file: png('a.png') };
  const b = { id: 'b', file: png('b.png') };
  const first = { id: 'f', file: png('first.png') };
  it.each<[string, Spec, Record<string, string[]>, string[]]>([
    ['a text-to-image model takes none', seedreamT2I, {}, ['generalReferences', 'firstFrame']],
    ['a single-image model takes the first reference', kontext, { generalReferences: ['a'] }, ['firstFrame']],
    ['a multi-image model takes them all', nanoBananaEdit, { generalReferences: ['a', 'b'] }, ['firstFrame']],
    ['a first/last frame model takes the first frame', veoFirstLast, { firstFrame: ['f'] }, ['generalReferences']],
  ])('%s', (_case, spec, expected, leftOut) => {
    const plan = uploadsFor(spec, { generalReferences: [a, b], firstFrame: [first], lastFrame: [] });
    expect(Object.fromEntries(Object.entries(plan.uploads).map(([key, items]) => [key, items.map((i) => i.id)]))).toEqual(expected);
    expect(plan.leftOut).toEqual(leftOut);
  });
});

describe('compareSlots', () => {
  it('merges the slots of every model: several files if any takes several, required if any requires it', () => {
    const slots = compareSlots([seedreamT2I, kontext, nanoBananaEdit]);
    expect(slots.map((s) => [s.key, s.multiple, s.required, s.maxItems])).toEqual([['generalReferences', true, true, 10]]);
    expect(compareSlots([seedreamT2I])).toEqual([]);
    expect(compareSlots([kontext]).map((s) => [s.key, s.multiple])).toEqual([['generalReferences', false]]);
  });
});

describe('compareLabel', () => {
  it.each([
    [{ prompt: 'a red fox' }, 2, 'Compare: a red fox'],
    [{ prompt: 'a very long prompt about a red fox running through the snow at dawn' }, 3, 'Compare: a very long prompt about a red fox…'],
    [{}, 3, 'Compare: 3 models'],
  ])('%j → %s', (params, models, label) => {
    expect(compareLabel(params, models)).toBe(label);
  });
});

describe('leftOutLabels', () => {
  it('names what a model leaves out as the form does: field labels and panel titles, never code names', () => {
    const slots = compareSlots([kontext, veoFirstLast]);
    const plan = {
      params: paramsFor(nanoBananaEdit, { prompt: 'x', image_size: 'square_hd', guidance_scale: 4 }),
      uploads: { leftOut: ['firstFrame', 'lastFrame', 'storyboardReference', 'mask_url'] },
    };
    expect(leftOutLabels(plan, seedreamT2I.fields.concat(kontext.fields), slots)).toEqual([
      'Image Size',
      'Guidance scale (CFG)',
      'First frame',
      'Last frame',
      'Storyboard reference',
      'Mask',
    ]);
  });
});

describe('paramsFor: the prompt goes to each model’s own prompt field', () => {
  const tts: Spec = {
    endpointId: 'fake-ai/tts',
    outputKind: 'audio',
    promptField: 'text',
    fields: [
      { name: 'text', type: 'text', required: true, group: 'main' },
      { name: 'prompt', type: 'string', required: false, group: 'main', title: 'Voice prompt' },
    ],
  };

  it('moves `prompt` to `text`, and keeps it out of the same-named field that is not the prompt', () => {
    expect(paramsFor(tts, { prompt: 'hello there', num_images: 2 }, 'prompt')).toEqual({
      params: { text: 'hello there' },
      leftOut: ['num_images'],
      missing: [],
    });
  });

  it('moves it back, and leaves out a form field that only shares the prompt’s name', () => {
    expect(paramsFor(seedreamT2I, { text: 'a red fox', prompt: 'calm voice' }, 'text')).toEqual({
      params: { prompt: 'a red fox' },
      leftOut: ['prompt'],
      missing: [],
    });
  });

  it('labels a compare run by the prompt field of the form', () => {
    expect(compareLabel({ text: 'hello there' }, 2, 'text')).toBe('Compare: hello there');
    expect(compareLabel({ text: 'hello there' }, 2, null)).toBe('Compare: 2 models');
  });
});

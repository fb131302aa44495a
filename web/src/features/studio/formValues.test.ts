import { describe, expect, it } from 'vitest';
import type { Field, Spec } from '../../api/types';
import { CUSTOM, REQUIRED, carryPrompt, draftPrompt, initialDraft, labelAt, promptFieldOf, setAt, toParams, validateDraft } from './formValues';
import { kontext, seedreamT2I } from './test/specs';

const f = (field: Partial<Field> & Pick<Field, 'name' | 'type'>): Field => ({ required: false, group: 'main', ...field });

describe('initialDraft', () => {
  it('pre-fills defaults and leaves file fields to the upload panels', () => {
    expect(initialDraft(kontext.fields)).toEqual({
      prompt: '',
      aspect_ratio: '',
      num_images: '1',
      output_format: 'jpeg',
      sync_mode: false,
      guidance_scale: '3.5',
      seed: '',
    });
  });

  it('selects "Custom…" when an allowCustom enum defaults to an object', () => {
    expect(initialDraft(seedreamT2I.fields).image_size).toEqual({
      choice: CUSTOM,
      custom: { width: '2048', height: '2048' },
    });
  });

  it('fills nested objects and arrays', () => {
    const fields = [
      f({ name: 'tags', type: 'array', default: ['a', 'b'], items: f({ name: 'item', type: 'string' }) }),
      f({ name: 'box', type: 'object', default: { x: 3 }, fields: [f({ name: 'x', type: 'integer' }), f({ name: 'y', type: 'integer', default: 5 })] }),
    ];
    expect(initialDraft(fields)).toEqual({ tags: 'a, b', box: { x: '3', y: '5' } });
  });
});

describe('toParams', () => {
  it('types the values and omits empty optional ones', () => {
    const draft = { ...initialDraft(kontext.fields), prompt: 'a cat' };
    expect(toParams(kontext.fields, draft)).toEqual({
      prompt: 'a cat',
      num_images: 1,
      output_format: 'jpeg',
      sync_mode: false,
      guidance_scale: 3.5,
    });
  });

  it('sends a custom enum as its nested object and a listed option as itself', () => {
    const draft = { ...initialDraft(seedreamT2I.fields), prompt: 'x' };
    expect(toParams(seedreamT2I.fields, draft).image_size).toEqual({ width: 2048, height: 2048 });
    const square = setAt(draft, ['image_size', 'choice'], 'square');
    expect(toParams(seedreamT2I.fields, square).image_size).toBe('square');
  });

  it('keeps numeric enum options as numbers and splits lists', () => {
    const fields = [
      f({ name: 'steps', type: 'enum', enum: [10, 20] }),
      f({ name: 'loras', type: 'array', items: f({ name: 'item', type: 'number' }) }),
    ];
    expect(toParams(fields, { steps: '20', loras: '0.5, 1\n2' })).toEqual({ steps: 20, loras: [0.5, 1, 2] });
  });
});

describe('validateDraft', () => {
  const cases: [string, Field, string, string | undefined][] = [
    ['required and empty', f({ name: 'v', type: 'string', required: true }), '  ', REQUIRED],
    ['optional and empty', f({ name: 'v', type: 'string' }), '', undefined],
    ['below minimum', f({ name: 'v', type: 'integer', minimum: 1 }), '0', 'Must be at least 1.'],
    ['above maximum', f({ name: 'v', type: 'number', maximum: 1 }), '1.5', 'Must be at most 1.'],
    ['at exclusive minimum', f({ name: 'v', type: 'number', exclusiveMinimum: 0 }), '0', 'Must be more than 0.'],
    ['at exclusive maximum', f({ name: 'v', type: 'number', exclusiveMaximum: 1 }), '1', 'Must be less than 1.'],
    ['inside the range', f({ name: 'v', type: 'number', minimum: 0, maximum: 1 }), '0.5', undefined],
    ['not a whole number', f({ name: 'v', type: 'integer' }), '1.5', 'Enter a whole number.'],
    ['not a number', f({ name: 'v', type: 'number' }), 'abc', 'Enter a number.'],
    ['too short', f({ name: 'v', type: 'text', minLength: 3 }), 'ab', 'Use at least 3 characters.'],
    ['too long', f({ name: 'v', type: 'string', maxLength: 2 }), 'abc', 'Use at most 2 characters (now 3).'],
    ['not an option', f({ name: 'v', type: 'enum', enum: ['a', 'b'] }), 'c', 'Choose one of the listed values.'],
    ['an option', f({ name: 'v', type: 'enum', enum: ['a', 'b'] }), 'b', undefined],
    ['too few items', f({ name: 'v', type: 'array', minItems: 2 }), 'a', 'Give at least 2 items.'],
    ['a bad item', f({ name: 'v', type: 'array', items: f({ name: 'i', type: 'integer' }) }), '1, x', '“x”: Enter a number.'],
  ];
  it.each(cases)('%s', (_name, field, value, expected) => {
    expect(validateDraft([field], { v: value }).v).toBe(expected);
  });

  it('checks the nested fields of a custom choice under the param path', () => {
    const draft = setAt(initialDraft(seedreamT2I.fields), ['image_size', 'custom', 'width'], '100');
    expect(validateDraft(seedreamT2I.fields, { ...draft, prompt: 'x' })).toEqual({ 'image_size.width': 'Must be at least 256.' });
    expect(labelAt(seedreamT2I.fields, 'image_size.width')).toBe('Image Size › Width');
  });
});

describe('the prompt across models (promptField)', () => {
  const tts: Spec = {
    endpointId: 'fake-ai/tts',
    outputKind: 'audio',
    promptField: 'gen_text',
    fields: [
      f({ name: 'gen_text', type: 'text', required: true }),
      f({ name: 'ref_text', type: 'text' }),
    ],
  };
  const edit: Spec = {
    endpointId: 'fake-ai/edit',
    outputKind: 'image',
    promptField: 'instruction',
    fields: [f({ name: 'instruction', type: 'string' }), f({ name: 'strength', type: 'number', default: 0.5 })],
  };
  const noPrompt: Spec = { endpointId: 'fake-ai/upscale', outputKind: 'image', promptField: null, fields: [f({ name: 'scale', type: 'integer', default: 2 })] };

  it('names the prompt field, falling back to a text field called prompt when the spec does not say', () => {
    expect(promptFieldOf(tts)).toBe('gen_text');
    expect(promptFieldOf(kontext)).toBe('prompt');
    expect(promptFieldOf(noPrompt)).toBeNull();
  });

  it('moves the prompt from one model’s field to the other’s, whatever each calls it', () => {
    const typed = { ...initialDraft(kontext.fields), prompt: 'a red fox' };
    expect(carryPrompt(kontext, typed, tts, initialDraft(tts.fields))).toEqual({ gen_text: 'a red fox', ref_text: '' });
    expect(carryPrompt(tts, { gen_text: 'hello there', ref_text: 'ref' }, edit, initialDraft(edit.fields))).toEqual({
      instruction: 'hello there',
      strength: '0.5',
    });
    // Never into a field that is not the prompt (`ref_text` stays as it was).
    expect(carryPrompt(edit, { instruction: 'brighter' }, tts, { gen_text: 'old', ref_text: 'kept' })).toEqual({ gen_text: 'brighter', ref_text: 'kept' });
  });

  it('moves nothing when there is no prompt to move or nowhere to put it', () => {
    const own = { gen_text: 'its own', ref_text: '' };
    expect(carryPrompt(kontext, { prompt: '  ' }, tts, own)).toBe(own);
    expect(carryPrompt(noPrompt, { scale: '4' }, tts, own)).toBe(own);
    const scale = { scale: '2' };
    expect(carryPrompt(kontext, { prompt: 'a fox' }, noPrompt, scale)).toBe(scale);
    expect(draftPrompt(tts, { gen_text: 'hi' })).toBe('hi');
  });
});

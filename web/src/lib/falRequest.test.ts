import { describe, expect, it } from 'vitest';
import type { JobReference, Spec } from '../api/types';
import { javascriptSnippet, pythonLiteral, pythonSnippet, requestInput, requestJson } from './falRequest';

const reference = (extra: Partial<JobReference> = {}): JobReference => ({
  id: 'r1',
  field: 'image_url',
  bucket: 'generalReferences',
  url: '/files/references/r1',
  contentType: 'image/png',
  fileName: 'fox.png',
  byteSize: 68,
  ...extra,
});

const ORIGIN = 'https://studio.example';

describe('the request sent to fal', () => {
  it('is the params plus each reference field set to its file’s absolute URL', () => {
    const input = requestInput({ prompt: 'a red fox', seed: 3 }, [reference()], null, ORIGIN);
    expect(input).toEqual({ prompt: 'a red fox', seed: 3, image_url: 'https://studio.example/files/references/r1' });
    expect(requestJson(input)).toBe(
      '{\n  "prompt": "a red fox",\n  "seed": 3,\n  "image_url": "https://studio.example/files/references/r1"\n}',
    );
  });

  it('makes a list of a field that takes several: the spec says so, else the name or the count', () => {
    const spec = { fields: [{ name: 'image_urls', type: 'files' }], buckets: {} } as unknown as Spec;
    const one = [reference({ field: 'image_urls' })];
    expect(requestInput({}, one, spec, ORIGIN).image_urls).toEqual(['https://studio.example/files/references/r1']);
    expect(requestInput({}, one, null, ORIGIN).image_urls).toEqual(['https://studio.example/files/references/r1']);
    const two = [reference(), reference({ id: 'r2', url: '/files/references/r2' })];
    expect(requestInput({}, two, null, ORIGIN).image_url).toHaveLength(2);
  });

  it('writes Python literals: True, False, None, nested and indented', () => {
    expect(pythonLiteral({ a: true, b: [false, null], c: 'say "hi"\n', d: {}, e: [] })).toBe(
      '{\n    "a": True,\n    "b": [\n        False,\n        None,\n    ],\n    "c": "say \\"hi\\"\\n",\n    "d": {},\n    "e": [],\n}',
    );
  });

  it('gives the same call for fal’s JavaScript and Python clients', () => {
    const input = { prompt: 'a red fox', sync_mode: false };
    expect(javascriptSnippet('fal-ai/flux-pro/kontext', input)).toBe(
      [
        'import { fal } from "@fal-ai/client";',
        '',
        'const result = await fal.subscribe("fal-ai/flux-pro/kontext", {',
        '  input: {',
        '    "prompt": "a red fox",',
        '    "sync_mode": false',
        '  },',
        '  logs: true,',
        '});',
        'console.log(result.data);',
        '',
      ].join('\n'),
    );
    expect(pythonSnippet('fal-ai/flux-pro/kontext', input)).toBe(
      [
        'import fal_client',
        '',
        'result = fal_client.subscribe(',
        '    "fal-ai/flux-pro/kontext",',
        '    arguments={',
        '        "prompt": "a red fox",',
        '        "sync_mode": False,',
        '    },',
        '    with_logs=True,',
        ')',
        'print(result)',
        '',
      ].join('\n'),
    );
  });
});

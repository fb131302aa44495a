/**
 * What the studio sent to fal for a run, rebuilt from what it stored: the params the person set,
 * plus each reference under its input field (a list where the field takes several). The server
 * sends a reference as a `data:` URI (small files) or a fal storage URL; neither is kept, so the
 * studio's own URL of the stored file stands in. Pure functions only.
 */
import type { JobReference, Spec } from '../api/types';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Whether `field` takes a list: what the spec says, else a guess from the references and the name. */
function takesList(field: string, count: number, spec: Spec | null): boolean {
  const inSpec = spec?.fields.find((candidate) => candidate.name === field);
  if (inSpec !== undefined) return inSpec.type === 'files';
  const bucket = Object.values(spec?.buckets ?? {}).find((target) => target?.field === field);
  if (bucket != null) return bucket.multiple;
  return count > 1 || field.endsWith('_urls');
}

/** The input fal was given: `params` plus each reference field set to its file's absolute URL. */
export function requestInput(
  params: Readonly<Record<string, unknown>>,
  references: readonly JobReference[],
  spec: Spec | null,
  origin: string,
): Record<string, unknown> {
  const byField = new Map<string, string[]>();
  for (const reference of references) {
    const urls = byField.get(reference.field) ?? [];
    urls.push(new URL(reference.url, origin).href);
    byField.set(reference.field, urls);
  }
  const input: Record<string, unknown> = { ...params };
  for (const [field, urls] of byField) input[field] = takesList(field, urls.length, spec) ? urls : urls[0];
  return input;
}

export const requestJson = (input: Readonly<Record<string, unknown>>) => JSON.stringify(input, null, 2);

/** Every line but the first indented by `pad`: a block nested under an opening line. */
const nest = (text: string, pad: string) => text.split('\n').join(`\n${pad}`);

/** The same call through fal's JavaScript client (`@fal-ai/client`). */
export function javascriptSnippet(endpointId: string, input: Readonly<Record<string, unknown>>): string {
  return [
    'import { fal } from "@fal-ai/client";',
    '',
    `const result = await fal.subscribe(${JSON.stringify(endpointId)}, {`,
    `  input: ${nest(requestJson(input), '  ')},`,
    '  logs: true,',
    '});',
    'console.log(result.data);',
    '',
  ].join('\n');
}

/**
 * A JSON value as a Python literal: `True`, `False`, `None`; JSON's string escapes are Python's
 * too, so strings are written as JSON writes them.
 */
export function pythonLiteral(value: unknown, indent = '    ', depth = 0): string {
  const json = JSON.parse(JSON.stringify(value) ?? 'null') as Json;
  return literal(json, indent, depth);
}

function literal(value: Json, indent: string, depth: number): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number' || typeof value === 'string') return JSON.stringify(value);
  const inner = indent.repeat(depth + 1);
  const outer = indent.repeat(depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => `${inner}${literal(item, indent, depth + 1)},`).join('\n')}\n${outer}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return '{}';
  return `{\n${entries.map(([key, item]) => `${inner}${JSON.stringify(key)}: ${literal(item, indent, depth + 1)},`).join('\n')}\n${outer}}`;
}

/** The same call through fal's Python client (`fal-client`). */
export function pythonSnippet(endpointId: string, input: Readonly<Record<string, unknown>>): string {
  return [
    'import fal_client',
    '',
    'result = fal_client.subscribe(',
    `    ${JSON.stringify(endpointId)},`,
    `    arguments=${pythonLiteral(input, '    ', 1)},`,
    '    with_logs=True,',
    ')',
    'print(result)',
    '',
  ].join('\n');
}

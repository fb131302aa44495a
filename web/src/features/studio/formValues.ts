/**
 * The spec-driven form's state, kept as the person typed it (`Draft`), and the pure functions that
 * turn it into initial values, error messages and the `params` JSON sent to the server.
 *
 * Draft per field type: text/string/integer/number/array → the typed string; boolean → boolean;
 * enum → the chosen option as a string (`''` for none), or with `allowCustom` a `CustomChoice`;
 * object → a nested `Draft`. File fields have no draft: they live in the upload panels.
 */
import type { Field, Spec } from '../../api/types';

export type DraftValue = string | boolean | Draft;
export interface Draft {
  [name: string]: DraftValue;
}

/** The `<select>` value of the "Custom…" option. */
export const CUSTOM = '__custom__';

export interface CustomChoice extends Draft {
  choice: string;
  custom: Draft;
}

export const isFileField = (field: Field) => field.type === 'file' || field.type === 'files';

export function fieldLabel(field: Field): string {
  if (field.title != null && field.title.trim() !== '') return field.title;
  const words = field.name.replace(/[_-]+/g, ' ').trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asDraft(value: DraftValue | undefined): Draft {
  return typeof value === 'object' ? value : {};
}

function asText(value: DraftValue | undefined): string {
  return typeof value === 'string' ? value : '';
}

// ---------------------------------------------------------------------------------------------
// Initial values

function scalarText(value: unknown): string {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

export function initialValue(field: Field, given: unknown = field.default): DraftValue {
  switch (field.type) {
    case 'boolean':
      return given === true;
    case 'enum': {
      const options = field.enum ?? [];
      const choice = options.some((option) => String(option) === scalarText(given)) ? scalarText(given) : '';
      if (field.allowCustom !== true) return choice;
      const nested = field.fields ?? [];
      if (isRecord(given)) return { choice: CUSTOM, custom: initialDraft(nested, given) } satisfies CustomChoice;
      return { choice, custom: initialDraft(nested) } satisfies CustomChoice;
    }
    case 'array':
      return Array.isArray(given) ? given.map(scalarText).filter((item) => item !== '').join(', ') : '';
    case 'object':
      return initialDraft(field.fields ?? [], isRecord(given) ? given : undefined);
    default:
      return scalarText(given);
  }
}

/** Defaults pre-filled; `given` (an object default) overrides the nested fields' own defaults. */
export function initialDraft(fields: readonly Field[], given?: Record<string, unknown>): Draft {
  const draft: Draft = {};
  for (const field of fields) {
    if (isFileField(field)) continue;
    draft[field.name] = given !== undefined && field.name in given ? initialValue(field, given[field.name]) : initialValue(field);
  }
  return draft;
}

// ---------------------------------------------------------------------------------------------
// Params

function parseNumber(text: string, integer: boolean): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return undefined;
  if (integer && !Number.isInteger(value)) return undefined;
  return value;
}

function listItems(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function scalarParam(field: Field, text: string): unknown {
  if (field.type === 'integer' || field.type === 'number') {
    return parseNumber(text, field.type === 'integer') ?? text.trim();
  }
  if (field.type === 'enum') return field.enum?.find((option) => String(option) === text) ?? text;
  if (field.type === 'boolean') return text === 'true';
  return text;
}

/** One field's value for the server, or `undefined` to leave it out (empty and optional). */
export function paramValue(field: Field, value: DraftValue | undefined): unknown {
  switch (field.type) {
    case 'boolean':
      return value === true;
    case 'text':
    case 'string': {
      const text = asText(value);
      return text.trim() === '' ? undefined : text;
    }
    case 'integer':
    case 'number': {
      const text = asText(value).trim();
      return text === '' ? undefined : scalarParam(field, text);
    }
    case 'enum': {
      if (field.allowCustom === true) {
        const draft = asDraft(value);
        const choice = asText(draft.choice);
        if (choice === CUSTOM) {
          const custom = toParams(field.fields ?? [], asDraft(draft.custom));
          return Object.keys(custom).length === 0 ? undefined : custom;
        }
        return choice === '' ? undefined : scalarParam(field, choice);
      }
      const choice = asText(value);
      return choice === '' ? undefined : scalarParam(field, choice);
    }
    case 'array': {
      const items = listItems(asText(value));
      if (items.length === 0) return undefined;
      const item = field.items ?? undefined;
      return item === undefined ? items : items.map((text) => scalarParam(item, text));
    }
    case 'object': {
      const nested = toParams(field.fields ?? [], asDraft(value));
      return Object.keys(nested).length === 0 ? undefined : nested;
    }
    default:
      return undefined;
  }
}

/** The non-file values, empty optional ones left out. */
export function toParams(fields: readonly Field[], draft: Draft): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const field of fields) {
    if (isFileField(field)) continue;
    const value = paramValue(field, draft[field.name]);
    if (value !== undefined) params[field.name] = value;
  }
  return params;
}

// ---------------------------------------------------------------------------------------------
// Checks (the server checks again)

export const REQUIRED = 'This field is required.';

function formatLimit(value: number): string {
  return String(value);
}

function checkNumber(field: Field, text: string): string | undefined {
  const trimmed = text.trim();
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return 'Enter a number.';
  if (field.type === 'integer' && !Number.isInteger(value)) return 'Enter a whole number.';
  if (field.minimum != null && value < field.minimum) return `Must be at least ${formatLimit(field.minimum)}.`;
  if (field.maximum != null && value > field.maximum) return `Must be at most ${formatLimit(field.maximum)}.`;
  if (field.exclusiveMinimum != null && value <= field.exclusiveMinimum) {
    return `Must be more than ${formatLimit(field.exclusiveMinimum)}.`;
  }
  if (field.exclusiveMaximum != null && value >= field.exclusiveMaximum) {
    return `Must be less than ${formatLimit(field.exclusiveMaximum)}.`;
  }
  return undefined;
}

function checkText(field: Field, text: string): string | undefined {
  const length = [...text].length;
  if (field.minLength != null && length < field.minLength) {
    return `Use at least ${field.minLength} character${field.minLength === 1 ? '' : 's'}.`;
  }
  if (field.maxLength != null && length > field.maxLength) {
    return `Use at most ${field.maxLength} characters (now ${length}).`;
  }
  return undefined;
}

function checkScalar(field: Field, text: string): string | undefined {
  switch (field.type) {
    case 'integer':
    case 'number':
      return checkNumber(field, text);
    case 'enum':
      return field.enum?.some((option) => String(option) === text) === true ? undefined : 'Choose one of the listed values.';
    case 'string':
    case 'text':
      return checkText(field, text);
    default:
      return undefined;
  }
}

function checkField(field: Field, value: DraftValue | undefined, path: string, errors: Record<string, string>): void {
  const empty = paramValue(field, value) === undefined;
  if (empty) {
    if (field.required && field.type !== 'boolean') errors[path] = REQUIRED;
    return;
  }
  switch (field.type) {
    case 'boolean':
      return;
    case 'enum': {
      if (field.allowCustom === true) {
        const draft = asDraft(value);
        if (asText(draft.choice) === CUSTOM) {
          checkFields(field.fields ?? [], asDraft(draft.custom), `${path}.`, errors);
          return;
        }
        const message = checkScalar(field, asText(draft.choice));
        if (message !== undefined) errors[path] = message;
        return;
      }
      const message = checkScalar(field, asText(value));
      if (message !== undefined) errors[path] = message;
      return;
    }
    case 'array': {
      const items = listItems(asText(value));
      if (field.minItems != null && items.length < field.minItems) {
        errors[path] = `Give at least ${field.minItems} item${field.minItems === 1 ? '' : 's'}.`;
        return;
      }
      if (field.maxItems != null && items.length > field.maxItems) {
        errors[path] = `Give at most ${field.maxItems} items.`;
        return;
      }
      const item = field.items ?? undefined;
      if (item !== undefined) {
        for (const text of items) {
          const message = checkScalar(item, text);
          if (message !== undefined) {
            errors[path] = `“${text}”: ${message}`;
            return;
          }
        }
      }
      return;
    }
    case 'object':
      checkFields(field.fields ?? [], asDraft(value), `${path}.`, errors);
      return;
    default: {
      const message = checkScalar(field, asText(value));
      if (message !== undefined) errors[path] = message;
    }
  }
}

function checkFields(fields: readonly Field[], draft: Draft, prefix: string, errors: Record<string, string>): void {
  for (const field of fields) {
    if (isFileField(field)) continue;
    checkField(field, draft[field.name], `${prefix}${field.name}`, errors);
  }
}

/** Error messages by field path (`num_images`, `image_size.width`), in field order. */
export function validateDraft(fields: readonly Field[], draft: Draft): Record<string, string> {
  const errors: Record<string, string> = {};
  checkFields(fields, draft, '', errors);
  return errors;
}

/** Every path a message can be attached to (for the server's 422 `details`). */
export function fieldPaths(fields: readonly Field[], prefix = ''): string[] {
  return fields.flatMap((field) => {
    const path = `${prefix}${field.name}`;
    const nested = field.fields != null ? fieldPaths(field.fields, `${path}.`) : [];
    return [path, ...nested];
  });
}

/** The label of the field at `path`, for messages such as "Prompt: This field is required." */
export function labelAt(fields: readonly Field[], path: string): string {
  const [head, ...rest] = path.split('.');
  const field = fields.find((candidate) => candidate.name === head);
  if (field === undefined) return path;
  if (rest.length === 0 || field.fields == null) return fieldLabel(field);
  return `${fieldLabel(field)} › ${labelAt(field.fields, rest.join('.'))}`;
}

/** Replaces the value at `path` (dotted; `choice`/`custom` included for custom enums). */
export function setAt(draft: Draft, path: readonly string[], value: DraftValue): Draft {
  const [head, ...rest] = path;
  if (head === undefined) return draft;
  if (rest.length === 0) return { ...draft, [head]: value };
  return { ...draft, [head]: setAt(asDraft(draft[head]), rest, value) };
}

// ---------------------------------------------------------------------------------------------
// The prompt across models

/**
 * The name of the model's main free text. Specs from before the server named it (`promptField`
 * absent) fall back to a text field literally called `prompt`, which is what the server would
 * have picked for them.
 */
export function promptFieldOf(spec: Pick<Spec, 'fields' | 'promptField'>): string | null {
  if (spec.promptField != null && spec.promptField !== '') return spec.promptField;
  const named = spec.fields.find((field) => field.name === 'prompt' && (field.type === 'text' || field.type === 'string'));
  return named === undefined ? null : named.name;
}

/** The prompt typed into `draft` for `spec`, or `''` when the model has none. */
export function draftPrompt(spec: Pick<Spec, 'fields' | 'promptField'>, draft: Draft): string {
  const name = promptFieldOf(spec);
  return name === null ? '' : asText(draft[name]);
}

/**
 * `draft` for the model switched to, with the prompt typed for the model switched from moved
 * into its own prompt field, whatever each calls it (`prompt` → `text`). An empty prompt moves
 * nothing: the new model keeps what it had.
 */
export function carryPrompt(
  from: Pick<Spec, 'fields' | 'promptField'>,
  fromDraft: Draft,
  to: Pick<Spec, 'fields' | 'promptField'>,
  toDraft: Draft,
): Draft {
  const text = draftPrompt(from, fromDraft);
  const target = promptFieldOf(to);
  if (text.trim() === '' || target === null || toDraft[target] === text) return toDraft;
  return { ...toDraft, [target]: text };
}

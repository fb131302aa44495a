/**
 * Compare mode's pure logic. One form (the first model's) and one set of uploads feed 2–4 models:
 * each model gets only the params its own spec names and only the upload slots it has.
 */
import type { Field, Spec } from '../../api/types';
import { bucketLabel } from '../../lib/buckets';
import { excerpt } from './jobs';
import { fieldLabel, isFileField, promptFieldOf } from './formValues';
import { uploadSlots, type UploadItem, type Uploads, type UploadSlot } from './uploads';

export const COMPARE_MIN = 2;
export const COMPARE_MAX = 4;

export interface ParamPlan {
  params: Record<string, unknown>;
  /** Names set in the form that this model does not take. */
  leftOut: string[];
  /** Labels of fields this model requires that the form does not set (the server will refuse). */
  missing: string[];
}

/**
 * The params one model takes, out of the shared ones. `sharedPromptField` names the prompt in
 * `shared` (the form's model's `promptField`): the prompt goes to this model's own prompt field
 * whatever it is called, and a field of the same name that is not its prompt does not get it.
 */
export function paramsFor(spec: Spec, shared: Readonly<Record<string, unknown>>, sharedPromptField: string | null = null): ParamPlan {
  const names = new Set(spec.fields.map((field) => field.name));
  const ownPrompt = promptFieldOf(spec);
  const movesPrompt = sharedPromptField !== null && ownPrompt !== null && sharedPromptField in shared;
  const params: Record<string, unknown> = {};
  const leftOut: string[] = [];
  for (const [name, value] of Object.entries(shared)) {
    if (movesPrompt && name === sharedPromptField) continue;
    // Another field of the form that happens to share the name of this model's prompt.
    if (movesPrompt && name === ownPrompt) {
      leftOut.push(name);
      continue;
    }
    if (names.has(name)) params[name] = value;
    else leftOut.push(name);
  }
  if (movesPrompt) params[ownPrompt] = shared[sharedPromptField];
  const missing = spec.fields
    .filter((field) => field.required && !isFileField(field) && !(field.name in params))
    .map(fieldLabel);
  return { params, leftOut, missing };
}

export interface UploadPlan {
  uploads: Record<string, UploadItem[]>;
  /** Slot keys with files that this model has no slot for. */
  leftOut: string[];
}

/** The uploads one model takes: the slots it has, trimmed to what each takes. */
export function uploadsFor(spec: Spec, shared: Uploads): UploadPlan {
  const slots = new Map(uploadSlots(spec).map((slot) => [slot.key, slot]));
  const uploads: Record<string, UploadItem[]> = {};
  const leftOut: string[] = [];
  for (const [key, items] of Object.entries(shared)) {
    if (items.length === 0) continue;
    const slot = slots.get(key);
    if (slot === undefined) {
      leftOut.push(key);
      continue;
    }
    uploads[key] = items.slice(0, slot.multiple ? (slot.maxItems ?? items.length) : 1);
  }
  return { uploads, leftOut };
}

/**
 * One panel per slot any chosen model has (same key, same panel): it takes several files when
 * any model does, and is required when any model requires it.
 */
export function compareSlots(specs: readonly Spec[]): UploadSlot[] {
  const merged = new Map<string, UploadSlot>();
  const limit = (slot: UploadSlot) => (slot.multiple ? (slot.maxItems ?? Infinity) : 1);
  for (const spec of specs) {
    for (const slot of uploadSlots(spec)) {
      const seen = merged.get(slot.key);
      const { minItems: _min, maxItems: _max, ...rest } = slot;
      const most = seen === undefined ? limit(slot) : Math.max(limit(seen), limit(slot));
      const next: UploadSlot = { ...(seen ?? rest), multiple: most > 1, required: (seen?.required ?? false) || slot.required };
      delete next.maxItems;
      if (most > 1 && Number.isFinite(most)) next.maxItems = most;
      merged.set(slot.key, next);
    }
  }
  return [...merged.values()];
}

/** The label of a compare run's group: "Compare: a red fox in the snow…". */
export function compareLabel(params: Readonly<Record<string, unknown>>, models: number, promptField: string | null = 'prompt'): string {
  const value = promptField === null ? undefined : params[promptField];
  const prompt = typeof value === 'string' ? value.trim() : '';
  return prompt === '' ? `Compare: ${models} models` : `Compare: ${excerpt(prompt, 40)}`;
}

/**
 * What a model leaves out, in the words the form shows: the fields' labels ("Image Size") and
 * the upload panels' titles ("References"), never the names sent to the server.
 */
export function leftOutLabels(
  plan: { params: Pick<ParamPlan, 'leftOut'>; uploads: Pick<UploadPlan, 'leftOut'> },
  fields: readonly Field[],
  slots: readonly UploadSlot[],
): string[] {
  const ofField = (name: string) => {
    const field = fields.find((candidate) => candidate.name === name);
    return field === undefined ? bucketLabel(name) : fieldLabel(field);
  };
  const ofSlot = (key: string) => slots.find((slot) => slot.key === key)?.label ?? bucketLabel(key);
  return [...plan.params.leftOut.map(ofField), ...plan.uploads.leftOut.map(ofSlot)];
}

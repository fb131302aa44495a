/**
 * Upload slots: one per bucket the endpoint takes (keyed by bucket name, so references survive a
 * switch between an `image_urls` model and an `image_url` model), plus one per remaining file
 * field (keyed by the field's own name). Pure functions only: files stay in the browser until
 * Generate, when `buildGenerationForm` puts them under their slot key.
 */
import { BUCKET_NAMES, type BucketName, type Field, type Spec } from '../../api/types';
import { BUCKET_LABELS } from '../../lib/buckets';
import { countOf } from '../../lib/words';
import { fieldLabel, isFileField } from './formValues';

export type Accept = NonNullable<Field['accept']>;

/**
 * A file the server already stores, used as a reference: the server copies it from its own
 * storage, so nothing is downloaded or uploaded again by the browser. A gallery asset goes as the
 * text part `reference:<slot key>` = asset id; a reference an earlier job was given (remix, run
 * again) as `storedReference:<slot key>` = that reference's id.
 */
export interface AssetRef {
  id: string;
  url: string;
  contentType: string;
  fileName: string;
  /** Where the id points: a gallery asset (the default) or an earlier job's reference. */
  source?: 'gallery' | 'job';
}

/** One attached file (`file`) or gallery asset (`asset`); `id` is a stable key for lists and removal. */
export type UploadItem = { id: string; file: File; asset?: undefined } | { id: string; asset: AssetRef; file?: undefined };

/** The text part name under which a gallery asset goes to a slot. */
export const referencePart = (slotKey: string) => `reference:${slotKey}`;

/** The text part name under which an earlier job's reference goes to a slot. */
export const storedReferencePart = (slotKey: string) => `storedReference:${slotKey}`;

const storedPart = (slotKey: string, ref: AssetRef) =>
  ref.source === 'job' ? storedReferencePart(slotKey) : referencePart(slotKey);

export const itemName = (item: UploadItem) => (item.file !== undefined ? item.file.name : item.asset.fileName);

/** Files by slot key: a bucket name, or the name of a file field no bucket targets. */
export type Uploads = Readonly<Record<string, readonly UploadItem[]>>;

export interface UploadSlot {
  key: string;
  label: string;
  /** Singular noun for notices: "reference", "first frame". */
  noun: string;
  bucket: BucketName | null;
  multiple: boolean;
  accept: Accept;
  required: boolean;
  minItems?: number;
  maxItems?: number;
  description?: string;
}

const BUCKET_TEXT: Record<BucketName, { label: string; noun: string; none: string }> = {
  generalReferences: { label: BUCKET_LABELS.generalReferences, noun: 'reference', none: 'reference images' },
  firstFrame: { label: BUCKET_LABELS.firstFrame, noun: 'first frame', none: 'first frame' },
  lastFrame: { label: BUCKET_LABELS.lastFrame, noun: 'last frame', none: 'last frame' },
  storyboardReference: { label: BUCKET_LABELS.storyboardReference, noun: 'storyboard reference', none: 'storyboard' },
};

export const isBucketName = (key: string): key is BucketName => (BUCKET_NAMES as readonly string[]).includes(key);

function withLimits(slot: UploadSlot, field: Field | undefined): UploadSlot {
  const out = { ...slot };
  if (field?.minItems != null) out.minItems = field.minItems;
  if (field?.maxItems != null) out.maxItems = field.maxItems;
  if (field?.description != null) out.description = field.description;
  return out;
}

/** The upload panels an endpoint's spec asks for, buckets first. */
export function uploadSlots(spec: Spec): UploadSlot[] {
  const slots: UploadSlot[] = [];
  const targeted = new Set<string>();
  for (const bucket of BUCKET_NAMES) {
    const target = spec.buckets?.[bucket];
    if (target == null) continue;
    targeted.add(target.field);
    const field = spec.fields.find((candidate) => candidate.name === target.field);
    slots.push(
      withLimits(
        {
          key: bucket,
          label: BUCKET_TEXT[bucket].label,
          noun: BUCKET_TEXT[bucket].noun,
          bucket,
          multiple: target.multiple,
          accept: field?.accept ?? 'image',
          required: field?.required ?? false,
        },
        field,
      ),
    );
  }
  for (const field of spec.fields) {
    if (!isFileField(field) || targeted.has(field.name)) continue;
    const label = fieldLabel(field);
    slots.push(
      withLimits(
        {
          key: field.name,
          label,
          noun: `file for “${label}”`,
          bucket: null,
          multiple: field.type === 'files',
          accept: field.accept ?? 'any',
          required: field.required ?? false,
        },
        field,
      ),
    );
  }
  return slots;
}

export interface DroppedUploads {
  key: string;
  count: number;
  message: string;
}

function plural(count: number, noun: string): string {
  if (count === 1) return `1 ${noun}`;
  return noun.startsWith('file for') ? `${count} files for${noun.slice('file for'.length)}` : `${count} ${noun}s`;
}

/**
 * On a model switch: keeps the uploads whose slot the next model also has (a bucket it takes, or a
 * file field of the same name), trims to one file where the next model takes one, and says what
 * was dropped and why.
 */
export function carryUploads(
  prevSpec: Spec | null,
  nextSpec: Spec,
  uploads: Uploads,
): { kept: Record<string, UploadItem[]>; dropped: DroppedUploads[] } {
  const kept: Record<string, UploadItem[]> = {};
  const dropped: DroppedUploads[] = [];
  const nextSlots = new Map(uploadSlots(nextSpec).map((slot) => [slot.key, slot]));
  const prevSlots = new Map(prevSpec === null ? [] : uploadSlots(prevSpec).map((slot) => [slot.key, slot]));

  for (const [key, items] of Object.entries(uploads)) {
    if (items.length === 0) continue;
    const prev = prevSlots.get(key);
    const noun = prev?.noun ?? (isBucketName(key) ? BUCKET_TEXT[key].noun : `file for “${key}”`);
    const next = nextSlots.get(key);
    if (next === undefined) {
      const none = isBucketName(key) ? BUCKET_TEXT[key].none : `“${prev?.label ?? key}” file`;
      dropped.push({
        key,
        count: items.length,
        message: `Dropped ${plural(items.length, noun)}: this model takes no ${none}.`,
      });
      continue;
    }
    const limit = next.multiple ? (next.maxItems ?? Infinity) : 1;
    kept[key] = items.slice(0, limit);
    if (items.length > limit) {
      const extra = items.length - limit;
      dropped.push({
        key,
        count: extra,
        message: `Dropped ${plural(extra, noun)}: this model takes ${limit === 1 ? 'only one' : `at most ${limit}`}.`,
      });
    }
  }
  return { kept, dropped };
}

/** What is missing or too much in the upload slots, by slot key. */
export function checkUploads(slots: readonly UploadSlot[], uploads: Uploads): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const slot of slots) {
    const count = uploads[slot.key]?.length ?? 0;
    if (slot.required && count === 0) errors[slot.key] = `Add ${slot.multiple ? 'at least one file' : 'a file'}.`;
    else if (count > 0 && slot.minItems !== undefined && count < slot.minItems) {
      errors[slot.key] = `Add at least ${countOf(slot.minItems, 'file')}.`;
    } else if (slot.maxItems !== undefined && count > slot.maxItems) errors[slot.key] = `Use at most ${countOf(slot.maxItems, 'file')}.`;
  }
  return errors;
}

/**
 * The multipart body of `POST /api/generations`: `endpoint`, `params` (JSON of the non-file
 * values), the `options` (`count`, `groupId`, `groupLabel`), every gallery asset as a text part
 * `reference:<slot key>` = asset id and every earlier job's reference as
 * `storedReference:<slot key>` = reference id, and then every file under its slot key (bucket name, or the
 * file field's name). Text parts come before the files: the server reads
 * the parts as they stream in.
 */
export function buildGenerationForm(
  endpointId: string,
  params: Record<string, unknown>,
  uploads: Uploads,
  options: Readonly<Record<string, string | number | null | undefined>> = {},
): FormData {
  const form = new FormData();
  form.append('endpoint', endpointId);
  form.append('params', JSON.stringify(params));
  for (const [name, value] of Object.entries(options)) {
    if (value !== null && value !== undefined && value !== '') form.append(name, String(value));
  }
  // Stored files are text parts (their ids), so they go before the files too.
  for (const [key, items] of Object.entries(uploads)) {
    for (const item of items) if (item.asset !== undefined) form.append(storedPart(key, item.asset), item.asset.id);
  }
  for (const [key, items] of Object.entries(uploads)) {
    for (const item of items) if (item.file !== undefined) form.append(key, item.file, item.file.name);
  }
  return form;
}

export const ACCEPT_ATTRIBUTE: Record<Accept, string | undefined> = {
  image: 'image/*',
  video: 'video/*',
  audio: 'audio/*',
  any: undefined,
};

/** Whether a file suits a slot's `accept` (the server checks again). */
export function accepts(accept: Accept, file: File): boolean {
  if (accept === 'any') return true;
  return file.type.startsWith(`${accept}/`);
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

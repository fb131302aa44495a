/** What the upload buckets are called wherever the app names one: never their code names. */
import type { BucketName } from '../api/types';

export const BUCKET_LABELS = {
  generalReferences: 'References',
  firstFrame: 'First frame',
  lastFrame: 'Last frame',
  storyboardReference: 'Storyboard reference',
} as const satisfies Record<BucketName, string>;

const isBucket = (name: string): name is BucketName => Object.hasOwn(BUCKET_LABELS, name);

/**
 * A bucket's label (`firstFrame` → "First frame"); any other name (a file field's own,
 * `mask_url`, `someNewBucket`) in words: "Mask url", "Some new bucket".
 */
export function bucketLabel(name: string): string {
  if (isBucket(name)) return BUCKET_LABELS[name];
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

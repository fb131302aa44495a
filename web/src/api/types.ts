/** Shapes of the studio server's JSON (camelCase). See DESIGN.md, "HTTP contract". */

export interface User {
  id: string;
  email: string;
  hasFalKey: boolean;
}

export interface Credits {
  balance: number | null;
  currency: string | null;
}

export interface UserResponse {
  user: User;
}

/** A unit price as fal publishes it: `0.03` USD per `image`. */
export interface Price {
  unitPrice: number;
  unit: string;
  currency: string;
}

/** One entry of the model catalog (`GET /api/models`). */
export interface Model {
  endpointId: string;
  displayName: string;
  category: string | null;
  description: string | null;
  thumbnailUrl: string | null;
  status: 'active' | 'deprecated' | null;
  price: Price | null;
}

export interface ModelPage {
  models: Model[];
  nextCursor: string | null;
  /** fal's catalog did not answer: this is the last list the server had. */
  stale: boolean;
}

export interface ModelList {
  models: Model[];
}

export type FieldType =
  | 'string'
  | 'text'
  | 'integer'
  | 'number'
  | 'boolean'
  | 'enum'
  | 'array'
  | 'object'
  | 'file'
  | 'files';

/** One input of a model, derived by the server from the endpoint's OpenAPI (optional keys are omitted). */
export interface Field {
  name: string;
  type: FieldType;
  required: boolean;
  nullable?: boolean;
  default?: unknown;
  enum?: (string | number)[];
  allowCustom?: boolean;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  title?: string;
  description?: string;
  examples?: unknown[];
  group: 'main' | 'advanced';
  accept?: 'image' | 'video' | 'audio' | 'any';
  fields?: Field[];
  items?: Field;
}

export const BUCKET_NAMES = ['generalReferences', 'firstFrame', 'lastFrame', 'storyboardReference'] as const;
export type BucketName = (typeof BUCKET_NAMES)[number];

export interface Bucket {
  /** The endpoint parameter the server fills from this bucket. */
  field: string;
  multiple: boolean;
}

export interface Spec {
  endpointId: string;
  displayName: string | null;
  category: string | null;
  outputKind: 'image' | 'video' | 'audio' | '3d' | 'text' | 'unknown';
  fields: Field[];
  buckets: Partial<Record<BucketName, Bucket>>;
  price: Price | null;
}

export interface Estimate {
  totalCost: number;
  currency: string;
  unit: string;
  unitQuantity: number;
  unitPrice: number;
}

export interface EstimateResponse {
  estimate: Estimate | null;
  reason: string | null;
}

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

// ---------------------------------------------------------------------------------------------
// Jobs and assets

export const JOB_STATUSES = ['queued', 'submitting', 'running', 'storing', 'completed', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export interface JobLog {
  message: string;
  level: string;
  timestamp: string;
}

export interface JobError {
  category: string;
  message: string;
  details?: unknown;
  requestId?: string;
}

/** A file the person attached, stored by the server (`url` is ours). */
export interface JobReference {
  id: string;
  field: string;
  bucket: string | null;
  url: string;
  contentType: string;
  fileName: string;
}

/** One stored output. `url` is our own (`/files/<id>`), never the provider's. */
export interface Asset {
  id: string;
  jobId: string;
  endpointId: string;
  model: string;
  prompt: string | null;
  resultKind: 'image' | 'video' | 'audio' | 'other';
  storageMode: string;
  url: string;
  downloadUrl: string;
  contentType: string;
  byteSize: number;
  width?: number | null;
  height?: number | null;
  outputDuration?: number | null;
  inferenceTime?: number | null;
  seed?: number | null;
  /** The stored file's name (the gallery's download name); older servers may leave it out. */
  fileName?: string | null;
  params: Record<string, unknown>;
  createdAt: string;
}

export interface Job {
  id: string;
  groupId: string;
  groupLabel: string | null;
  endpointId: string;
  modelName: string | null;
  status: JobStatus;
  queuePosition: number | null;
  logs: JobLog[];
  error: JobError | null;
  assets: Asset[];
  references: JobReference[];
  params: Record<string, unknown>;
  estimate: { totalCost: number; currency: string } | null;
  requestId: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  hidden: boolean;
}

/** `POST /api/generations`: `jobs` is every job created (`count` of them), `job` the first. */
export interface GenerationResponse {
  job: Job;
  jobs: Job[];
}

export interface JobResponse {
  job: Job;
}

export interface JobList {
  jobs: Job[];
}

// ---------------------------------------------------------------------------------------------
// Spend (estimates recorded when each job started)

export interface SpendReport {
  currency: string | null;
  total: number;
  byDay: { day: string; total: number; jobs: number }[];
  byModel: { endpointId: string; modelName: string | null; total: number; jobs: number }[];
}

// ---------------------------------------------------------------------------------------------
// Gallery (`/api/assets`) and share links

export type AssetKind = 'image' | 'video' | 'audio';

/** `GET /api/assets`: newest first, `nextCursor` null on the last page. */
export interface AssetPage {
  assets: Asset[];
  nextCursor: string | null;
}

export interface AssetModel {
  endpointId: string;
  model: string;
  count: number;
}

export interface AssetModelList {
  models: AssetModel[];
}

/** `GET /api/assets/{id}`: the asset, the job it came from and that job's reference files. */
export interface AssetDetail extends Asset {
  job: { id: string; status: string; groupId: string; createdAt: string; finishedAt: string | null } | null;
  references: JobReference[];
}

export interface AssetDetailResponse {
  asset: AssetDetail;
}

export interface Share {
  token: string;
  /** Absolute, built by the server from its public URL. */
  url: string;
  assetId: string;
  createdAt: string;
  expiresAt: string | null;
  allowDownload: boolean;
  showPrompt: boolean;
  hasPassword: boolean;
  asset: { id: string; resultKind: Asset['resultKind']; model: string; url: string };
}

export interface ShareResponse {
  share: Share;
}

export interface ShareList {
  shares: Share[];
}

export interface NewShare {
  expiresInSeconds?: number;
  allowDownload: boolean;
  showPrompt: boolean;
  password?: string;
}

/**
 * The app's names for the studio server's JSON shapes. Every one is generated from the server's
 * OpenAPI document (`schema.d.ts`, made from `openapi.json` by `npm run api-types`): change the
 * server, refresh the snapshot, regenerate; never write a shape here by hand.
 */
import type { components } from './schema';

type Schemas = components['schemas'];

// Accounts
export type User = Schemas['SafeUser'];
export type UserResponse = Schemas['UserResponse'];
export type Credits = Schemas['Credits'];

// Models, their forms and prices
export type Price = Schemas['Price'];
/** One entry of the model catalog (`GET /api/models`). */
export type Model = Schemas['ModelOut'];
export type ModelPage = Schemas['CatalogPageOut'];
export type ModelList = Schemas['ModelList'];
export type FieldType = Schemas['FieldType'];
/** One input of a model, derived by the server from the endpoint's OpenAPI. */
export type Field = Schemas['Field'];
export type Bucket = Schemas['BucketTarget'];
export type BucketName = keyof Schemas['Buckets'];
export type Spec = Schemas['SpecOut'];
export type Estimate = Schemas['Estimate'];
export type EstimateResponse = Schemas['EstimateOut'];

// `satisfies` keeps this list equal to the document's buckets: one added there fails here.
const BUCKETS = {
  generalReferences: true,
  firstFrame: true,
  lastFrame: true,
  storyboardReference: true,
} as const satisfies Record<BucketName, true>;
/** Every upload bucket, in the order the form shows them. */
export const BUCKET_NAMES = Object.keys(BUCKETS) as readonly BucketName[];

// Jobs and assets
export type Job = Schemas['JobView'];
export type JobStatus = Job['status'];
export type JobLog = Schemas['LogLine'];
export type JobError = Schemas['JobError'];
/** A file the person attached, stored by the server (`url` is ours). */
export type JobReference = Schemas['ReferenceView'];
/** One stored output. `url` is our own (`/files/<id>`), never the provider's. */
export type Asset = Schemas['AssetView'];
export type ResultKind = Asset['resultKind'];
/** `POST /api/generations`: `jobs` is every job created, `job` the first. */
export type GenerationResponse = Schemas['Created'];
export type JobResponse = Schemas['OneJob'];
export type JobList = Schemas['JobList'];

// Spend (estimates recorded when each job started)
export type SpendReport = Schemas['Spend'];

// Gallery (`/api/assets`) and share links
/** `GET /api/assets`: newest first, `nextCursor` null on the last page. */
export type AssetPage = Schemas['GalleryPage'];
export type AssetModel = Schemas['GalleryModel'];
export type AssetModelList = Schemas['GalleryModels'];
/** `GET /api/assets/{id}`: the asset, the job it came from and that job's reference files. */
export type AssetDetail = Schemas['AssetDetail'];
export type AssetDetailResponse = Schemas['AssetDetailOut'];
export type Share = Schemas['ShareView'];
export type ShareResponse = Schemas['CreatedShare'];
export type ShareList = Schemas['ShareList'];
export type NewShare = Schemas['CreateShare'];

/**
 * The app's names for the studio server's JSON shapes. Every one is generated from the server's
 * OpenAPI document (`schema.d.ts`, made from `openapi.json` by `npm run api-types`): change the
 * server, refresh the snapshot, regenerate; never write a shape here by hand.
 */
import type { components, operations } from './schema';

type Schemas = components['schemas'];

// Accounts
export type User = Schemas['SafeUser'];
export type UserResponse = Schemas['UserResponse'];
export type Credits = Schemas['Credits'];
export type Role = Schemas['Role'];

// Keys and budgets (`GET /api/account/budget`; a generation over budget is refused with 402)
/** The key a user's new jobs run on: their own, the studio's, or none. */
export type KeySource = Schemas['KeySource'];
/** One budget's month: spent, reserved by waiting and running jobs, what is left, the reset. */
export type BudgetState = Schemas['BudgetState'];
/** The signed-in user's key and budget this month. */
export type MyBudget = Schemas['MyBudget'];
/** `details` of a `budget_exceeded` refusal. */
export type BudgetDetails = Schemas['BudgetDetails'];

// Administration (`/api/admin/…`, admins only; members get 404)
export type AdminUser = Schemas['AdminUser'];
export type AdminUsers = Schemas['AdminUsers'];
export type UserChange = Schemas['UserChange'];
export type StudioKeyState = Schemas['StudioKeyState'];
export type NewStudioKey = Schemas['NewStudioKey'];
export type StudioSettings = Schemas['SettingsView'];
export type StudioSettingsChange = Schemas['SettingsChange'];
export type ProviderRetention = Schemas['ProviderRetention'];
export type UnpricedPolicy = Schemas['Unpriced'];
export type Usage = Schemas['Usage'];
export type UsageLine = Schemas['UsageLine'];
type UsageParams = operations['adminUsage']['parameters'];
type GroupByOf<T> = T extends { groupBy?: infer G } ? NonNullable<G> : never;
/**
 * How `GET /api/admin/usage` groups its rows (`?groupBy=`). Read from the query parameters, or
 * from `path` where the document files them (it does while the handler's `IntoParams` lacks
 * `parameter_in = Query`); either way the same three values.
 */
export type UsageGroup = GroupByOf<NonNullable<UsageParams['query']>> | GroupByOf<UsageParams['path']>;

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

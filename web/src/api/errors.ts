/**
 * Error normalisation: whatever body a failed request brings (the server's envelope
 * `{error: {category, message, details?}}`, a proxy's HTML page, plain text, an empty or
 * unexpected body, or no response at all) becomes one `{category, message, details?}` with a
 * message a person can read. The server turns fal's own error formats into its envelope, so
 * none of them is parsed here.
 */
import type { components } from './schema';

/** The categories the server's document lists (`Category`). */
export type ErrorCategory = components['schemas']['Category'];

/** One entry of an invalid request's `details`: the field and what is wrong with it. */
export type FieldProblem = components['schemas']['FieldProblem'];

/** Every shape the server's `details` takes (field problems, the queue cap, a fal failure). */
export type ErrorDetails = components['schemas']['ErrorDetails'];

export interface NormalizedError {
  category: ErrorCategory;
  message: string;
  /** Per-field problems, when the server named fields. */
  details?: FieldProblem[];
  /** fal's HTTP status, when the failure came from fal (`ProviderDetails.providerStatus`). */
  providerStatus?: number;
}

/** The error every API call throws. `status` is 0 when no HTTP response arrived. */
export class ApiError extends Error {
  readonly status: number;
  readonly category: ErrorCategory;
  readonly details?: readonly FieldProblem[];
  readonly providerStatus?: number;

  constructor(status: number, normalized: NormalizedError) {
    super(normalized.message);
    this.name = 'ApiError';
    this.status = status;
    this.category = normalized.category;
    if (normalized.details !== undefined) this.details = normalized.details;
    if (normalized.providerStatus !== undefined) this.providerStatus = normalized.providerStatus;
  }
}

export const NETWORK_MESSAGE =
  'The studio server could not be reached. Check your connection and try again.';

export function networkError(): ApiError {
  return new ApiError(0, { category: 'network', message: NETWORK_MESSAGE });
}

// `satisfies` keeps this list equal to the document's: a category added or removed there fails
// the type check here. Each maps to the words its error badge shows, for people, not code.
const CATEGORY_LABELS = {
  invalid_key: 'fal key not accepted',
  policy: 'Blocked by the content checker',
  invalid_request: 'Invalid input',
  rate_limited: 'Too many requests',
  provider_error: 'fal failed',
  network: 'Network problem',
  not_found: 'Not found',
  unauthorized: 'Not signed in',
  conflict: 'Conflict',
  too_large: 'Too large',
  budget_exceeded: 'Over budget',
  internal: 'Server error',
} as const satisfies Record<ErrorCategory, string>;

/** What a fal 402 (payment required: the fal account has no credits left) is called. */
export const OUT_OF_CREDITS = 'Out of fal credits';

/** What an error's category badge says (`policy` → "Blocked by the content checker"). */
export function categoryLabel(category: string): string {
  return isErrorCategory(category) ? CATEGORY_LABELS[category] : category;
}

/**
 * fal's HTTP status in an error's `details` (`ProviderDetails.providerStatus`), when the failure
 * came from fal; `undefined` for every other shape.
 */
export function providerStatusOf(details: unknown): number | undefined {
  if (!isRecord(details)) return undefined;
  const status = details.providerStatus;
  return typeof status === 'number' && Number.isInteger(status) ? status : undefined;
}

/**
 * The badge of a failure: its category's words, except that a fal 402 (fal's own "payment
 * required", whatever category the server filed it under) says the fal account is out of credits.
 * Takes a job's error (`details` as the server sent it) or an `ApiError` (`providerStatus`).
 */
export function errorLabel(error: { category: string; details?: unknown; providerStatus?: number | undefined }): string {
  const status = error.providerStatus ?? providerStatusOf(error.details);
  return status === 402 ? OUT_OF_CREDITS : categoryLabel(error.category);
}

function isErrorCategory(value: unknown): value is ErrorCategory {
  return typeof value === 'string' && Object.hasOwn(CATEGORY_LABELS, value);
}

/** The category of a response that did not say one, by its status class. */
export function categoryForStatus(status: number): ErrorCategory {
  switch (status) {
    case 401:
      return 'invalid_key';
    case 403:
      return 'policy';
    case 404:
      return 'not_found';
    case 409:
      return 'conflict';
    case 402:
      return 'budget_exceeded';
    case 413:
      return 'too_large';
    case 429:
      return 'rate_limited';
    default:
      if (status >= 400 && status < 500) return 'invalid_request';
      if (status >= 500) return 'provider_error';
      if (status === 0) return 'network';
      return 'internal';
  }
}

/** Longest plain-text body shown as is; anything longer is probably a page, not a message. */
const MAX_PLAIN_TEXT = 300;
/** Where a message may sit, in the order looked at. */
const MESSAGE_KEYS = ['message', 'msg', 'detail', 'reason', 'error'] as const;
const MAX_DEPTH = 4;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A body that arrived as text: JSON after all, a short message, or a page nobody should read. */
function fromText(raw: string): unknown {
  const text = raw.trim();
  if (text.startsWith('{') || text.startsWith('[') || text.startsWith('"')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }
  return text.length <= MAX_PLAIN_TEXT && !text.startsWith('<') ? text : undefined;
}

/** Finds a readable message in any JSON value: strings as they are, arrays joined; never `[object Object]`. */
function messageIn(value: unknown, depth = 0): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (Array.isArray(value)) {
    const parts = value.map((item) => messageIn(item, depth + 1)).filter((m) => m !== undefined);
    return parts.length > 0 ? parts.join('; ') : undefined;
  }
  if (!isRecord(value)) return undefined;
  for (const key of MESSAGE_KEYS) {
    const found = messageIn(value[key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * The field problems of an invalid request's `details` (the array form of `ErrorDetails`).
 * Checked, not cast: the body may come from a proxy or an older server rather than this one's
 * document, and the other forms (queue cap, fal failure) are objects that name no field.
 */
function fieldProblems(details: unknown): FieldProblem[] | undefined {
  if (!Array.isArray(details)) return undefined;
  const problems = details.filter(isFieldProblem).map(({ field, message }) => ({ field, message }));
  return problems.length > 0 ? problems : undefined;
}

function isFieldProblem(value: unknown): value is FieldProblem {
  return isRecord(value) && typeof value.field === 'string' && typeof value.message === 'string';
}

/**
 * Turns any error body into `{category, message, details?}`. Pure: no I/O, no globals.
 * `body` is the parsed JSON when the response was JSON, otherwise the raw text (or anything).
 */
export function normalizeError(status: number, statusText: string, body: unknown): NormalizedError {
  const value = typeof body === 'string' ? fromText(body) : body;
  const envelope = isRecord(value) && isRecord(value.error) ? value.error : undefined;
  const claimed = envelope?.category;
  const category = isErrorCategory(claimed) ? claimed : categoryForStatus(status);
  const reason = statusText.trim();
  const message = messageIn(value) ?? (reason === '' ? `HTTP ${status}` : `HTTP ${status}: ${reason}`);
  const details = fieldProblems(envelope?.details);
  const providerStatus = providerStatusOf(envelope?.details);
  return {
    category,
    message,
    ...(details === undefined ? {} : { details }),
    ...(providerStatus === undefined ? {} : { providerStatus }),
  };
}

/**
 * Error normalisation: every error that reaches the browser, whatever produced it (our server,
 * fal's payloads passed through, a proxy's HTML page, a dead connection), becomes one
 * `{ category, message, details? }` with a message a person can read.
 */

export const ERROR_CATEGORIES = [
  'invalid_key',
  'policy',
  'invalid_request',
  'rate_limited',
  'provider_error',
  'network',
  'not_found',
  'unauthorized',
  'conflict',
  'too_large',
  'internal',
] as const;

export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

export interface NormalizedError {
  category: ErrorCategory;
  message: string;
  details?: unknown;
}

/** The error every API call throws. `status` is 0 when no HTTP response arrived. */
export class ApiError extends Error {
  readonly status: number;
  readonly category: ErrorCategory;
  readonly details?: unknown;

  constructor(status: number, normalized: NormalizedError) {
    super(normalized.message);
    this.name = 'ApiError';
    this.status = status;
    this.category = normalized.category;
    if (normalized.details !== undefined) this.details = normalized.details;
  }
}

export const NETWORK_MESSAGE =
  'The studio server could not be reached. Check your connection and try again.';

export function networkError(): ApiError {
  return new ApiError(0, { category: 'network', message: NETWORK_MESSAGE });
}

/** Longest plain-text body shown as is; anything longer is probably a page, not a message. */
const MAX_PLAIN_TEXT = 300;

export function isErrorCategory(value: unknown): value is ErrorCategory {
  return typeof value === 'string' && (ERROR_CATEGORIES as readonly string[]).includes(value);
}

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

/** fal platform API (`api.fal.ai`) error types. */
function categoryForPlatformType(type: string, status: number): ErrorCategory {
  switch (type) {
    case 'authorization_error':
      return status === 403 ? 'policy' : 'invalid_key';
    case 'validation_error':
      return 'invalid_request';
    case 'not_found':
      return 'not_found';
    case 'rate_limited':
      return 'rate_limited';
    case 'server_error':
    case 'not_implemented':
      return 'provider_error';
    default:
      return categoryForStatus(status);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function fallbackMessage(status: number, statusText: string): string {
  const reason = statusText.trim();
  return reason === '' ? `HTTP ${status}` : `HTTP ${status}: ${reason}`;
}

/** `["body", "image", 0, "url"]` → `image.0.url`. */
function locationOf(loc: unknown): string | undefined {
  if (!Array.isArray(loc)) return text(loc);
  const parts = loc.filter((p) => typeof p === 'string' || typeof p === 'number').map(String);
  if (parts[0] === 'body') parts.shift();
  return parts.length > 0 ? parts.join('.') : undefined;
}

/** One FastAPI/pydantic validation item (`{loc, msg, type}`) or anything else in a `detail` array. */
function validationItemMessage(item: unknown): string | undefined {
  if (!isRecord(item)) return messageFrom(item, 1);
  const msg = text(item.msg) ?? text(item.message) ?? messageFrom(item, 1);
  if (msg === undefined) return undefined;
  const where = locationOf(item.loc);
  return where === undefined ? msg : `${where}: ${msg}`;
}

const MESSAGE_KEYS = ['message', 'msg', 'detail', 'reason', 'error', 'error_description', 'title'];
const MAX_DEPTH = 4;

/** Finds a readable message in any JSON value; never stringifies an object. */
function messageFrom(value: unknown, depth: number): string | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (typeof value === 'string') return text(value);
  if (Array.isArray(value)) {
    const parts = value
      .map((item) => validationItemMessage(item))
      .filter((m): m is string => m !== undefined);
    return parts.length > 0 ? parts.join('; ') : undefined;
  }
  if (!isRecord(value)) return undefined;
  for (const key of MESSAGE_KEYS) {
    const found = messageFrom(value[key], depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

function hasPolicyViolation(detail: unknown[]): boolean {
  return detail.some((item) => isRecord(item) && item.type === 'content_policy_violation');
}

/** A body that arrived as text: maybe JSON, maybe a short message, maybe an HTML error page. */
function normalizeText(status: number, statusText: string, raw: string): NormalizedError {
  const trimmed = raw.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"')) {
    try {
      const parsed: unknown = JSON.parse(trimmed);
      if (typeof parsed !== 'string') return normalizeError(status, statusText, parsed);
      return normalizeText(status, statusText, parsed);
    } catch {
      // Not JSON after all: treat it as text below.
    }
  }
  const category = categoryForStatus(status);
  const readable =
    trimmed !== '' &&
    trimmed.length <= MAX_PLAIN_TEXT &&
    !trimmed.startsWith('<') &&
    !trimmed.startsWith('{') &&
    !trimmed.startsWith('[');
  return { category, message: readable ? trimmed : fallbackMessage(status, statusText) };
}

/**
 * Turns any error body into `{category, message, details?}`. Pure: no I/O, no globals.
 * `body` is the parsed JSON when the response was JSON, otherwise the raw text (or anything).
 */
export function normalizeError(
  status: number,
  statusText: string,
  body: unknown,
): NormalizedError {
  if (typeof body === 'string') return normalizeText(status, statusText, body);

  const byStatus = categoryForStatus(status);
  const fallback = fallbackMessage(status, statusText);

  if (!isRecord(body)) {
    const message = messageFrom(body, 0);
    return { category: byStatus, message: message ?? fallback };
  }

  // Our own shape: { error: { category, message, details? } }.
  const error = body.error;
  if (isRecord(error) && isErrorCategory(error.category)) {
    const result: NormalizedError = {
      category: error.category,
      message: messageFrom(error, 0) ?? fallback,
    };
    if (error.details !== undefined && error.details !== null) result.details = error.details;
    return result;
  }

  // fal platform API: { error: { type, message } }.
  if (isRecord(error) && typeof error.type === 'string') {
    return {
      category: categoryForPlatformType(error.type, status),
      message: messageFrom(error, 0) ?? fallback,
    };
  }

  // fal model endpoints (FastAPI): { detail: [ {loc, msg, type} ] } or { detail: "..." }.
  const detail = body.detail;
  if (Array.isArray(detail)) {
    const result: NormalizedError = {
      category: hasPolicyViolation(detail) ? 'policy' : byStatus,
      message: messageFrom(detail, 0) ?? fallback,
    };
    if (detail.length > 0) result.details = detail;
    return result;
  }
  if (body.error_type === 'content_policy_violation') {
    return { category: 'policy', message: messageFrom(body, 0) ?? fallback };
  }

  // { detail: "..." }, { message }, { msg }, { reason }, { error: "..." }, nested variants.
  return { category: byStatus, message: messageFrom(body, 0) ?? fallback };
}

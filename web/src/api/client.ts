import { ApiError, networkError, normalizeError } from './errors';

export { ApiError } from './errors';
export type { ErrorCategory, FieldProblem } from './errors';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions {
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as multipart; the browser sets Content-Type with its boundary. */
  form?: FormData;
  signal?: AbortSignal;
}

async function readBody(response: Response): Promise<unknown> {
  const raw = await response.text();
  if (raw === '') return '';
  const type = response.headers.get('content-type') ?? '';
  if (type.includes('json')) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  return raw;
}

/**
 * The one way the app talks to the studio server: cookies included, JSON in and out,
 * failures thrown as `ApiError`. No toasts, no redirects: callers decide what an error means.
 */
export async function request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const init: RequestInit = { method, credentials: 'include', headers };
  if (options.form !== undefined) {
    init.body = options.form;
  } else if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  if (options.signal !== undefined) init.signal = options.signal;

  let response: Response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error;
    throw networkError();
  }

  let body: unknown;
  try {
    body = await readBody(response);
  } catch {
    throw networkError();
  }

  if (!response.ok) {
    throw new ApiError(response.status, normalizeError(response.status, response.statusText, body));
  }
  if (response.status === 204 || body === '') return undefined as T;
  if (typeof body === 'string') {
    throw new ApiError(response.status, {
      category: 'internal',
      message: 'The studio server sent a reply that could not be read.',
    });
  }
  return body as T;
}

export const api = {
  get: <T>(path: string, options?: RequestOptions) => request<T>('GET', path, options),
  post: <T>(path: string, body?: unknown) => request<T>('POST', path, { body }),
  postForm: <T>(path: string, form: FormData) => request<T>('POST', path, { form }),
  put: <T>(path: string, body?: unknown) => request<T>('PUT', path, { body }),
  patch: <T>(path: string, body?: unknown) => request<T>('PATCH', path, { body }),
  delete: <T>(path: string, body?: unknown) => request<T>('DELETE', path, { body }),
};

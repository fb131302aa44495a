import { describe, expect, it } from 'vitest';
import { ApiError, NETWORK_MESSAGE, networkError, normalizeError, type NormalizedError } from './errors';

interface Case {
  name: string;
  status: number;
  statusText: string;
  body: unknown;
  expected: NormalizedError;
}

const cases: Case[] = [
  // Our own shape.
  {
    name: 'our own error shape is kept as is',
    status: 409,
    statusText: 'Conflict',
    body: { error: { category: 'conflict', message: 'This email is already registered.' } },
    expected: { category: 'conflict', message: 'This email is already registered.' },
  },
  {
    name: 'our own shape keeps details',
    status: 422,
    statusText: 'Unprocessable Entity',
    body: {
      error: {
        category: 'invalid_request',
        message: 'Check the highlighted fields.',
        details: { fields: { password: 'must be at least 8 characters' } },
      },
    },
    expected: {
      category: 'invalid_request',
      message: 'Check the highlighted fields.',
      details: { fields: { password: 'must be at least 8 characters' } },
    },
  },
  {
    name: 'our own unauthorized category wins over 401 → invalid_key',
    status: 401,
    statusText: 'Unauthorized',
    body: { error: { category: 'unauthorized', message: 'Wrong email or password.' } },
    expected: { category: 'unauthorized', message: 'Wrong email or password.' },
  },
  {
    name: 'our own shape with an empty message falls back to the status line',
    status: 500,
    statusText: 'Internal Server Error',
    body: { error: { category: 'internal', message: '' } },
    expected: { category: 'internal', message: 'HTTP 500: Internal Server Error' },
  },
  {
    name: 'our own shape as unparsed JSON text',
    status: 429,
    statusText: 'Too Many Requests',
    body: '{"error":{"category":"rate_limited","message":"Too many attempts. Wait a minute."}}',
    expected: { category: 'rate_limited', message: 'Too many attempts. Wait a minute.' },
  },
  {
    name: 'unknown category in our shape: category by status, message kept',
    status: 404,
    statusText: 'Not Found',
    body: { error: { category: 'mystery', message: 'No such job.' } },
    expected: { category: 'not_found', message: 'No such job.' },
  },

  // fal validation (FastAPI / pydantic).
  {
    name: 'fal validation: one item, leading "body" dropped',
    status: 422,
    statusText: 'Unprocessable Entity',
    body: { detail: [{ loc: ['body', 'prompt'], msg: 'field required', type: 'value_error.missing' }] },
    expected: {
      category: 'invalid_request',
      message: 'prompt: field required',
      details: [{ loc: ['body', 'prompt'], msg: 'field required', type: 'value_error.missing' }],
    },
  },
  {
    name: 'fal validation: several items, nested locs joined with dots',
    status: 422,
    statusText: 'Unprocessable Entity',
    body: {
      detail: [
        { loc: ['body', 'image_size', 'width'], msg: 'must be ≤ 14142', type: 'less_than_equal' },
        { loc: ['body', 'loras', 0, 'path'], msg: 'invalid url', type: 'url_parsing' },
      ],
    },
    expected: {
      category: 'invalid_request',
      message: 'image_size.width: must be ≤ 14142; loras.0.path: invalid url',
      details: [
        { loc: ['body', 'image_size', 'width'], msg: 'must be ≤ 14142', type: 'less_than_equal' },
        { loc: ['body', 'loras', 0, 'path'], msg: 'invalid url', type: 'url_parsing' },
      ],
    },
  },
  {
    name: 'fal validation on another 4xx is invalid_request',
    status: 400,
    statusText: 'Bad Request',
    body: { detail: [{ loc: ['query', 'seed'], msg: 'not an integer', type: 'int_parsing' }] },
    expected: {
      category: 'invalid_request',
      message: 'query.seed: not an integer',
      details: [{ loc: ['query', 'seed'], msg: 'not an integer', type: 'int_parsing' }],
    },
  },
  {
    name: 'fal validation item without loc: message only',
    status: 422,
    statusText: 'Unprocessable Entity',
    body: { detail: [{ msg: 'Image too small', type: 'value_error' }] },
    expected: {
      category: 'invalid_request',
      message: 'Image too small',
      details: [{ msg: 'Image too small', type: 'value_error' }],
    },
  },
  {
    name: 'fal content policy violation item → policy',
    status: 422,
    statusText: 'Unprocessable Entity',
    body: {
      detail: [
        {
          loc: ['body', 'prompt'],
          msg: 'The content could not be processed because it contained material flagged by a content checker.',
          type: 'content_policy_violation',
        },
      ],
    },
    expected: {
      category: 'policy',
      message:
        'prompt: The content could not be processed because it contained material flagged by a content checker.',
      details: [
        {
          loc: ['body', 'prompt'],
          msg: 'The content could not be processed because it contained material flagged by a content checker.',
          type: 'content_policy_violation',
        },
      ],
    },
  },

  // { detail: "..." } and error_type.
  {
    name: 'plain detail string',
    status: 404,
    statusText: 'Not Found',
    body: { detail: 'Application not found' },
    expected: { category: 'not_found', message: 'Application not found' },
  },
  {
    name: 'detail with error_type: category by status',
    status: 504,
    statusText: 'Gateway Timeout',
    body: { detail: 'Request timed out', error_type: 'request_timeout' },
    expected: { category: 'provider_error', message: 'Request timed out' },
  },
  {
    name: 'detail with error_type content_policy_violation → policy',
    status: 400,
    statusText: 'Bad Request',
    body: { detail: 'Prompt was flagged.', error_type: 'content_policy_violation' },
    expected: { category: 'policy', message: 'Prompt was flagged.' },
  },
  {
    name: 'detail on a 401 → invalid_key',
    status: 401,
    statusText: 'Unauthorized',
    body: { detail: 'Invalid API key' },
    expected: { category: 'invalid_key', message: 'Invalid API key' },
  },

  // fal platform API.
  {
    name: 'platform authorization_error → invalid_key',
    status: 401,
    statusText: 'Unauthorized',
    body: { error: { type: 'authorization_error', message: 'Invalid key' } },
    expected: { category: 'invalid_key', message: 'Invalid key' },
  },
  {
    name: 'platform authorization_error on 403 → policy',
    status: 403,
    statusText: 'Forbidden',
    body: { error: { type: 'authorization_error', message: 'Admin scope required' } },
    expected: { category: 'policy', message: 'Admin scope required' },
  },
  {
    name: 'platform validation_error → invalid_request',
    status: 400,
    statusText: 'Bad Request',
    body: { error: { type: 'validation_error', message: 'limit must be positive' } },
    expected: { category: 'invalid_request', message: 'limit must be positive' },
  },
  {
    name: 'platform not_found',
    status: 404,
    statusText: 'Not Found',
    body: { error: { type: 'not_found', message: 'Endpoint not found' } },
    expected: { category: 'not_found', message: 'Endpoint not found' },
  },
  {
    name: 'platform rate_limited',
    status: 429,
    statusText: 'Too Many Requests',
    body: { error: { type: 'rate_limited', message: 'Slow down' } },
    expected: { category: 'rate_limited', message: 'Slow down' },
  },
  {
    name: 'platform server_error → provider_error',
    status: 500,
    statusText: 'Internal Server Error',
    body: { error: { type: 'server_error', message: 'Something broke' } },
    expected: { category: 'provider_error', message: 'Something broke' },
  },
  {
    name: 'platform not_implemented → provider_error',
    status: 501,
    statusText: 'Not Implemented',
    body: { error: { type: 'not_implemented', message: 'Not available yet' } },
    expected: { category: 'provider_error', message: 'Not available yet' },
  },
  {
    name: 'platform error without message: status line',
    status: 500,
    statusText: 'Internal Server Error',
    body: { error: { type: 'server_error' } },
    expected: { category: 'provider_error', message: 'HTTP 500: Internal Server Error' },
  },

  // Other top-level keys.
  {
    name: 'top-level message',
    status: 400,
    statusText: 'Bad Request',
    body: { message: 'Bad input' },
    expected: { category: 'invalid_request', message: 'Bad input' },
  },
  {
    name: 'top-level msg',
    status: 409,
    statusText: 'Conflict',
    body: { msg: 'Already exists' },
    expected: { category: 'conflict', message: 'Already exists' },
  },
  {
    name: 'top-level reason',
    status: 413,
    statusText: 'Payload Too Large',
    body: { reason: 'File exceeds 50 MB' },
    expected: { category: 'too_large', message: 'File exceeds 50 MB' },
  },
  {
    name: 'top-level error string',
    status: 403,
    statusText: 'Forbidden',
    body: { error: 'Forbidden by policy' },
    expected: { category: 'policy', message: 'Forbidden by policy' },
  },
  {
    name: 'error object with only a nested message',
    status: 502,
    statusText: 'Bad Gateway',
    body: { error: { message: 'Upstream failed' } },
    expected: { category: 'provider_error', message: 'Upstream failed' },
  },
  {
    name: 'deeply nested detail object',
    status: 400,
    statusText: 'Bad Request',
    body: { detail: { error: { reason: 'Seed out of range' } } },
    expected: { category: 'invalid_request', message: 'Seed out of range' },
  },
  {
    name: 'a bare JSON array of strings',
    status: 400,
    statusText: 'Bad Request',
    body: ['first problem', 'second problem'],
    expected: { category: 'invalid_request', message: 'first problem; second problem' },
  },

  // Unreadable bodies.
  {
    name: 'HTML page → status line',
    status: 502,
    statusText: 'Bad Gateway',
    body: '<html><body><h1>502 Bad Gateway</h1></body></html>',
    expected: { category: 'provider_error', message: 'HTTP 502: Bad Gateway' },
  },
  {
    name: 'empty body → status line',
    status: 500,
    statusText: 'Internal Server Error',
    body: '',
    expected: { category: 'provider_error', message: 'HTTP 500: Internal Server Error' },
  },
  {
    name: 'short plain text → the text',
    status: 429,
    statusText: 'Too Many Requests',
    body: 'rate limit exceeded\n',
    expected: { category: 'rate_limited', message: 'rate limit exceeded' },
  },
  {
    name: 'long plain text → status line',
    status: 500,
    statusText: 'Internal Server Error',
    body: 'x'.repeat(301),
    expected: { category: 'provider_error', message: 'HTTP 500: Internal Server Error' },
  },
  {
    name: 'broken JSON → status line',
    status: 400,
    statusText: 'Bad Request',
    body: '{"error": {"message": "tru',
    expected: { category: 'invalid_request', message: 'HTTP 400: Bad Request' },
  },
  {
    name: 'a JSON string body → the string',
    status: 404,
    statusText: 'Not Found',
    body: '"no such asset"',
    expected: { category: 'not_found', message: 'no such asset' },
  },
  {
    name: 'null body → status line',
    status: 503,
    statusText: 'Service Unavailable',
    body: null,
    expected: { category: 'provider_error', message: 'HTTP 503: Service Unavailable' },
  },
  {
    name: 'a number body → status line',
    status: 418,
    statusText: "I'm a teapot",
    body: 42,
    expected: { category: 'invalid_request', message: "HTTP 418: I'm a teapot" },
  },
  {
    name: 'an object with nothing readable → status line, never [object Object]',
    status: 400,
    statusText: 'Bad Request',
    body: { error: { code: 17, info: { nested: true } } },
    expected: { category: 'invalid_request', message: 'HTTP 400: Bad Request' },
  },
  {
    name: 'whitespace-only messages are ignored',
    status: 404,
    statusText: 'Not Found',
    body: { message: '   ', detail: 'Gone' },
    expected: { category: 'not_found', message: 'Gone' },
  },
  {
    name: 'empty statusText (HTTP/2) → status alone',
    status: 500,
    statusText: '',
    body: '',
    expected: { category: 'provider_error', message: 'HTTP 500' },
  },

  // Category by status.
  {
    name: '401 without category → invalid_key',
    status: 401,
    statusText: 'Unauthorized',
    body: '',
    expected: { category: 'invalid_key', message: 'HTTP 401: Unauthorized' },
  },
  {
    name: '403 → policy',
    status: 403,
    statusText: 'Forbidden',
    body: '',
    expected: { category: 'policy', message: 'HTTP 403: Forbidden' },
  },
  {
    name: '404 → not_found',
    status: 404,
    statusText: 'Not Found',
    body: '',
    expected: { category: 'not_found', message: 'HTTP 404: Not Found' },
  },
  {
    name: '409 → conflict',
    status: 409,
    statusText: 'Conflict',
    body: '',
    expected: { category: 'conflict', message: 'HTTP 409: Conflict' },
  },
  {
    name: '413 → too_large',
    status: 413,
    statusText: 'Payload Too Large',
    body: '',
    expected: { category: 'too_large', message: 'HTTP 413: Payload Too Large' },
  },
  {
    name: '429 → rate_limited',
    status: 429,
    statusText: 'Too Many Requests',
    body: '',
    expected: { category: 'rate_limited', message: 'HTTP 429: Too Many Requests' },
  },
  {
    name: '422 → invalid_request',
    status: 422,
    statusText: 'Unprocessable Entity',
    body: '',
    expected: { category: 'invalid_request', message: 'HTTP 422: Unprocessable Entity' },
  },
  {
    name: '504 → provider_error',
    status: 504,
    statusText: 'Gateway Timeout',
    body: '',
    expected: { category: 'provider_error', message: 'HTTP 504: Gateway Timeout' },
  },
];

describe('normalizeError', () => {
  it.each(cases)('$name', ({ status, statusText, body, expected }) => {
    const result = normalizeError(status, statusText, body);
    expect(result).toEqual(expected);
    expect(result.message).not.toContain('[object Object]');
    expect(result.message.trim()).not.toBe('');
  });
});

describe('networkError', () => {
  it('says the studio server could not be reached, with category network and status 0', () => {
    const error = networkError();
    expect(error).toBeInstanceOf(ApiError);
    expect(error.status).toBe(0);
    expect(error.category).toBe('network');
    expect(error.message).toBe(NETWORK_MESSAGE);
    expect(error.message).toMatch(/studio server could not be reached/);
    expect(error.message).toMatch(/connection/);
  });
});

import { describe, expect, it } from 'vitest';
import {
  ApiError,
  categoryLabel,
  errorLabel,
  NETWORK_MESSAGE,
  networkError,
  normalizeError,
  OUT_OF_CREDITS,
  type NormalizedError,
} from './errors';

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
    name: 'our own shape keeps its [{field, message}] details',
    status: 422,
    statusText: 'Unprocessable Entity',
    body: {
      error: {
        category: 'invalid_request',
        message: 'Check the highlighted fields.',
        details: [{ field: 'password', message: 'must be 8 to 256 characters' }],
      },
    },
    expected: {
      category: 'invalid_request',
      message: 'Check the highlighted fields.',
      details: [{ field: 'password', message: 'must be 8 to 256 characters' }],
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

  {
    name: 'our own shape: of fal’s answer to a provider error only fal’s status is kept (fal’s body is not)',
    status: 502,
    statusText: 'Bad Gateway',
    body: {
      error: {
        category: 'provider_error',
        message: 'fal failed.',
        details: { provider: { detail: 'boom' }, providerStatus: 500, retryable: true },
      },
    },
    expected: { category: 'provider_error', message: 'fal failed.', providerStatus: 500 },
  },
  {
    name: 'our own shape: malformed detail items are skipped',
    status: 422,
    statusText: 'Unprocessable Entity',
    body: {
      error: {
        category: 'invalid_request',
        message: 'Check the form.',
        details: [{ field: 'seed', message: 'not a number' }, { field: 3, message: 'x' }, 'loose', null],
      },
    },
    expected: {
      category: 'invalid_request',
      message: 'Check the form.',
      details: [{ field: 'seed', message: 'not a number' }],
    },
  },

  // Any other body: the message is unwrapped, the category comes from the status.
  {
    name: 'a detail array: the items’ messages joined',
    status: 422,
    statusText: 'Unprocessable Entity',
    body: {
      detail: [
        { loc: ['body', 'prompt'], msg: 'field required', type: 'value_error.missing' },
        { loc: ['body', 'seed'], msg: 'not an integer', type: 'int_parsing' },
      ],
    },
    expected: { category: 'invalid_request', message: 'field required; not an integer' },
  },
  {
    name: 'plain detail string',
    status: 404,
    statusText: 'Not Found',
    body: { detail: 'Application not found' },
    expected: { category: 'not_found', message: 'Application not found' },
  },
  {
    name: 'detail on a 401 → invalid_key',
    status: 401,
    statusText: 'Unauthorized',
    body: { detail: 'Invalid API key' },
    expected: { category: 'invalid_key', message: 'Invalid API key' },
  },
  {
    name: 'an error object without our category: its message, category by status',
    status: 403,
    statusText: 'Forbidden',
    body: { error: { type: 'authorization_error', message: 'Admin scope required' } },
    expected: { category: 'policy', message: 'Admin scope required' },
  },
  {
    name: 'an error object without a message: status line',
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

describe('budget_exceeded', () => {
  it('keeps the server’s sentence and drops the budget details (they name no field)', () => {
    const message = 'This would cost about $0.06 and your budget has $0.05 left this month.';
    const body = {
      error: {
        category: 'budget_exceeded',
        message,
        details: { estimateUsd: 0.06, remainingUsd: 0.05, resetsAt: '2027-01-01T00:00:00Z', budget: 'user' },
      },
    };
    expect(normalizeError(402, 'Payment Required', body)).toEqual({ category: 'budget_exceeded', message });
    expect(normalizeError(402, 'Payment Required', '').category).toBe('budget_exceeded');
  });

  it('is labelled in words', () => {
    expect(categoryLabel('budget_exceeded')).toBe('Over budget');
  });
});

describe('error labels', () => {
  // Every category has words a person reads; none shows its code name.
  it.each([
    ['policy', 'Blocked by the content checker'],
    ['invalid_key', 'fal key not accepted'],
    ['invalid_request', 'Invalid input'],
    ['rate_limited', 'Too many requests'],
    ['provider_error', 'fal failed'],
    ['network', 'Network problem'],
    ['not_found', 'Not found'],
    ['unauthorized', 'Not signed in'],
    ['conflict', 'Conflict'],
    ['too_large', 'Too large'],
    ['internal', 'Server error'],
    ['budget_exceeded', 'Over budget'],
  ])('%s → %s', (category, label) => {
    expect(categoryLabel(category)).toBe(label);
    expect(errorLabel({ category })).toBe(label);
  });

  it('shows a category it does not know as the server wrote it', () => {
    expect(categoryLabel('something_new')).toBe('something_new');
  });

  it('calls a fal 402 "Out of fal credits", from a job’s details or an ApiError', () => {
    const details = { providerStatus: 402, retryable: false, provider: { detail: 'Exhausted balance' } };
    expect(errorLabel({ category: 'invalid_request', details })).toBe(OUT_OF_CREDITS);
    expect(errorLabel({ category: 'provider_error', details })).toBe('Out of fal credits');
    const refused = new ApiError(400, normalizeError(400, 'Bad Request', { error: { category: 'invalid_request', message: 'fal: no credits.', details } }));
    expect(refused.providerStatus).toBe(402);
    expect(errorLabel(refused)).toBe(OUT_OF_CREDITS);
    // The studio's own 402 (a budget) is not fal's.
    expect(errorLabel({ category: 'budget_exceeded', details: { estimateUsd: 1, remainingUsd: 0, resetsAt: '', budget: 'user' } })).toBe('Over budget');
    expect(errorLabel({ category: 'provider_error', details: { providerStatus: 500, retryable: true } })).toBe('fal failed');
    expect(errorLabel({ category: 'provider_error', details: 'not an object' })).toBe('fal failed');
  });
});

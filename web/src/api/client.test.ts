import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api } from './client';

function stubFetch(impl: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>) {
  const mock = vi.fn(impl);
  vi.stubGlobal('fetch', mock);
  return mock;
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('api client', () => {
  it('sends JSON with credentials and returns the parsed body', async () => {
    const fetchMock = stubFetch(async () =>
      Response.json({ user: { id: 'u1', email: 'a@b.c', hasFalKey: false } }, { status: 201 }),
    );
    const result = await api.post<{ user: { id: string } }>('/api/auth/signup', { email: 'a@b.c', password: 'x' });
    expect(result.user.id).toBe('u1');
    const [path, init] = fetchMock.mock.calls[0] ?? [];
    expect(path).toBe('/api/auth/signup');
    expect(init?.credentials).toBe('include');
    expect(init?.method).toBe('POST');
    expect(init?.body).toBe('{"email":"a@b.c","password":"x"}');
    expect(new Headers(init?.headers).get('content-type')).toBe('application/json');
  });

  it('returns undefined for 204', async () => {
    stubFetch(async () => new Response(null, { status: 204 }));
    await expect(api.post('/api/auth/logout')).resolves.toBeUndefined();
  });

  it('throws a typed ApiError from our error shape', async () => {
    stubFetch(async () =>
      Response.json({ error: { category: 'conflict', message: 'Already registered.' } }, { status: 409 }),
    );
    const error: unknown = await api.post('/api/auth/signup', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 409, category: 'conflict', message: 'Already registered.' });
  });

  it('normalizes an HTML error page', async () => {
    stubFetch(
      async () =>
        new Response('<html>bad gateway</html>', {
          status: 502,
          statusText: 'Bad Gateway',
          headers: { 'content-type': 'text/html' },
        }),
    );
    await expect(api.get('/api/auth/me')).rejects.toMatchObject({
      status: 502,
      category: 'provider_error',
      message: 'HTTP 502: Bad Gateway',
    });
  });

  it('turns a failed fetch into a network error', async () => {
    stubFetch(async () => {
      throw new TypeError('Failed to fetch');
    });
    await expect(api.get('/api/auth/me')).rejects.toMatchObject({ status: 0, category: 'network' });
  });
});

describe('api.postForm', () => {
  it('sends FormData as is, without setting Content-Type, with credentials', async () => {
    const fetchMock = stubFetch(async () => Response.json({ job: { id: 'j1' } }, { status: 202 }));
    const form = new FormData();
    form.append('endpoint', 'fal-ai/x');
    const result = await api.postForm<{ job: { id: string } }>('/api/generations', form);
    expect(result.job.id).toBe('j1');
    const [, init] = fetchMock.mock.calls[0] ?? [];
    expect(init?.body).toBe(form);
    expect(init?.credentials).toBe('include');
    expect(new Headers(init?.headers).has('content-type')).toBe(false);
  });
});

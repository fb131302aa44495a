import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router';
import { vi } from 'vitest';

import type { ErrorDetails } from '../api/errors';

type Reply = Response | Promise<Response> | ((call: Call) => Response | Promise<Response>);

export interface Call {
  key: string;
  /** The query string, `?` included; only when there is one. */
  search?: string;
  body: unknown;
  /** A multipart body; only when one was sent. */
  form?: FormData;
  credentials: RequestCredentials | undefined;
}

/**
 * Stubs `fetch` with answers keyed by `"METHOD /path?query"` (tried first) or `"METHOD /path"`;
 * records every call.
 */
export function stubServer(replies: Record<string, Reply>) {
  const calls: Call[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const parsed = new URL(url, 'http://studio.test');
    const key = `${init?.method ?? 'GET'} ${parsed.pathname}`;
    const call: Call = {
      key,
      body: typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
      credentials: init?.credentials,
    };
    if (parsed.search !== '') call.search = parsed.search;
    if (init?.body instanceof FormData) call.form = init.body;
    calls.push(call);
    const reply = replies[`${key}${parsed.search}`] ?? replies[key];
    if (reply === undefined) throw new Error(`unexpected request ${key}`);
    if (typeof reply === 'function') return reply(call);
    return reply instanceof Response ? reply.clone() : reply;
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls };
}

export const json = (status: number, body: unknown) => Response.json(body, { status });
// `details` typed by the server's document, so a test cannot stub a shape the server never sends.
export const apiError = (status: number, category: string, message: string, details?: ErrorDetails) =>
  json(status, { error: { category, message, ...(details === undefined ? {} : { details }) } });

/** Renders `ui` at `path` with a fresh query cache (returned as `queryClient`, to look into). */
export function renderWithProviders(ui: ReactElement, path = '/') {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
  const result = render(
    <QueryClientProvider client={queryClient}>
      <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
    </QueryClientProvider>,
  );
  return { ...result, queryClient };
}

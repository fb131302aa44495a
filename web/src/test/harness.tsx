import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react';
import type { ReactElement } from 'react';
import { MemoryRouter } from 'react-router';
import { vi } from 'vitest';

type Reply = Response | Promise<Response> | (() => Response | Promise<Response>);

/** Stubs `fetch` with answers keyed by `"METHOD /path"`; records every call. */
export function stubServer(replies: Record<string, Reply>) {
  const calls: { key: string; body: unknown; credentials: RequestCredentials | undefined }[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const key = `${init?.method ?? 'GET'} ${new URL(url, 'http://studio.test').pathname}`;
    calls.push({
      key,
      body: typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined,
      credentials: init?.credentials,
    });
    const reply = replies[key];
    if (reply === undefined) throw new Error(`unexpected request ${key}`);
    return typeof reply === 'function' ? reply() : reply;
  });
  vi.stubGlobal('fetch', fetchMock);
  return { calls };
}

export const json = (status: number, body: unknown) => Response.json(body, { status });
export const apiError = (status: number, category: string, message: string, details?: unknown) =>
  json(status, { error: { category, message, ...(details === undefined ? {} : { details }) } });

export function renderWithProviders(ui: ReactElement, path = '/') {
  const queryClient = new QueryClient({
    defaultOptions: { queries: { retry: false }, mutations: { retry: false } },
  });
  return render(
    <QueryClientProvider client={queryClient}>
      <MemoryRouter initialEntries={[path]}>{ui}</MemoryRouter>
    </QueryClientProvider>,
  );
}

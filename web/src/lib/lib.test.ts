import { describe, expect, it } from 'vitest';
import { fieldErrors } from './fieldErrors';
import { formatMoney } from './money';
import { formatResetDay, formatUsd, KEY_SOURCE_LABELS, parseUsd } from './budget';
import { navRoutesFor, safeReturnPath } from './routes';

describe('fieldErrors', () => {
  const known = ['email', 'password'] as const;
  it.each([
    ['one field', [{ field: 'email', message: 'taken' }], { email: 'taken' }],
    [
      'the first message of a field wins',
      [
        { field: 'password', message: 'too short' },
        { field: 'password', message: 'too common' },
      ],
      { password: 'too short' },
    ],
    ['unknown names are dropped', [{ field: 'role', message: 'nope' }], {}],
    ['no details', undefined, {}],
  ])('%s', (_name, details, expected) => {
    expect(fieldErrors(details, known)).toEqual(expected);
  });
});

describe('formatMoney', () => {
  it.each([
    [24.5, 'USD', '$24.50'],
    [24.5, 'usd', '$24.50'],
    [1234.5, 'EUR', '€1,234.50'],
    [3, null, '3.00'],
    [3, 'CREDITS', '3.00 CREDITS'],
  ])('%s %s → %s', (amount, currency, expected) => {
    expect(formatMoney(amount, currency, 'en-US')).toBe(expected);
  });
});

describe('safeReturnPath', () => {
  it.each([
    ['/settings', '/settings'],
    ['/gallery', '/gallery'],
    ['/login', '/studio'],
    ['https://evil.example/', '/studio'],
    [undefined, '/studio'],
  ])('%s → %s', (candidate, expected) => {
    expect(safeReturnPath(candidate)).toBe(expected);
  });
});

describe('navRoutesFor', () => {
  it('adds the admin page for admins only', () => {
    expect(navRoutesFor('member').map((route) => route.path)).toEqual(['/studio', '/gallery', '/settings']);
    expect(navRoutesFor('admin').map((route) => route.path)).toEqual(['/studio', '/gallery', '/settings', '/admin']);
  });
});

describe('budget formatting', () => {
  it('formats USD, the reset day in UTC, and typed amounts', () => {
    expect(formatUsd(0.05, 'en-US')).toBe('$0.05');
    expect(formatResetDay('2027-01-01T00:00:00Z', 'en-US')).toBe('Jan 1, 2027');
    expect(formatResetDay('soon', 'en-US')).toBe('soon');
    expect(parseUsd('')).toBeNull();
    expect(parseUsd(' 0.05 ')).toBe(0.05);
    expect(parseUsd('-1')).toEqual({ error: expect.stringMatching(/from 0 to 1,000,000/) as unknown });
    expect(parseUsd('abc')).toHaveProperty('error');
    expect(KEY_SOURCE_LABELS).toEqual({ own: 'Own key', studio: 'Studio key', none: 'No key' });
  });
});

import { describe, expect, it } from 'vitest';
import { fieldErrors } from './fieldErrors';
import { formatMoney } from './money';
import { safeReturnPath } from './routes';

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

import { describe, expect, it } from 'vitest';
import { fieldErrors } from './fieldErrors';
import { formatMoney } from './money';
import { safeReturnPath } from './routes';

describe('fieldErrors', () => {
  const known = ['email', 'password'] as const;
  it.each([
    ['fields map', { fields: { email: 'is not an email' } }, { email: 'is not an email' }],
    ['flat map with arrays', { password: ['too short', 'too common'] }, { password: 'too short; too common' }],
    ['list of {field, message}', [{ field: 'email', message: 'taken' }], { email: 'taken' }],
    ['pydantic items', [{ loc: ['body', 'password'], msg: 'too short' }], { password: 'too short' }],
    ['unknown names are dropped', { fields: { role: 'nope' } }, {}],
    ['nothing usable', 'oops', {}],
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

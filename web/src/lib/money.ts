import { perUnit } from './words';

/** Formats an amount of money for people; falls back gracefully on an unknown currency code. */
export function formatMoney(amount: number, currency: string | null, locale?: string): string {
  if (currency === null || currency.trim() === '') {
    return new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(amount);
  }
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency: currency.trim().toUpperCase() }).format(amount);
  } catch {
    // RangeError: not an ISO 4217 code.
    const number = new Intl.NumberFormat(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(amount);
    return `${number} ${currency}`;
  }
}

/**
 * A unit price such as `$0.03 per image` or `$0.28 per second` (fal writes some units in the
 * plural); keeps up to four decimals so `$0.0025` does not become `$0.00`.
 */
export function formatUnitPrice(price: { unitPrice: number; unit: string; currency: string }, locale?: string): string {
  let amount: string;
  try {
    amount = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency: price.currency.trim().toUpperCase(),
      minimumFractionDigits: 2,
      maximumFractionDigits: 4,
    }).format(price.unitPrice);
  } catch {
    amount = formatMoney(price.unitPrice, price.currency, locale);
  }
  return perUnit(amount, price.unit);
}

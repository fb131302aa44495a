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

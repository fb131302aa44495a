import { formatCount, perUnit, unitCount, unitNoun } from './words';

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

/** The smallest amount `formatMoney` shows for anything above zero. */
const CENT = 0.01;

/**
 * A cost or an amount left, in cents: "$0.03", and "under $0.01" for a fraction of a cent, so
 * something that costs (or is left) never reads "$0.00". Zero stays "$0.00".
 */
export function formatCost(amount: number, currency: string | null, locale?: string): string {
  if (amount > 0 && amount < CENT) return `under ${formatMoney(CENT, currency, locale)}`;
  return formatMoney(amount, currency, locale);
}

/**
 * fal's unit when it is a count of a smaller one ("1000 characters", "1k tokens"): how many of
 * that smaller unit it is and the unit's name; `null` for a plain unit ("image", "seconds").
 */
export function countedUnit(unit: string): { per: number; noun: string } | null {
  const match = /^\s*(\d[\d,]*(?:\.\d+)?)\s*([km])?\s+(\S.*?)\s*$/i.exec(unit);
  if (match === null) return null;
  const [, digits = '', scale, noun = ''] = match;
  const per = Number(digits.replace(/,/g, '')) * (scale === undefined ? 1 : scale.toLowerCase() === 'k' ? 1_000 : 1_000_000);
  if (!Number.isFinite(per) || per <= 0) return null;
  return { per, noun };
}

/**
 * A unit price such as `$0.03 per image`, `$0.28 per second` or `$0.10 per 1,000 characters`
 * (fal writes some units in the plural); keeps up to four decimals so `$0.0025` does not become `$0.00`.
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
  const counted = countedUnit(price.unit);
  if (counted === null || counted.per === 1) return perUnit(amount, counted?.noun ?? price.unit);
  return `${amount} per ${formatCount(counted.per)} ${unitNoun(counted.noun, counted.per)}`;
}

/**
 * What an estimate counts, in words: "1 image", "8 seconds", and for a unit that is a count of a
 * smaller one, how many of those and at what price: "50 characters at $0.10 per 1,000 characters"
 * (never "0.05 × 1000 characters").
 */
export function estimateQuantity(
  estimate: { unitQuantity: number; unit: string; unitPrice: number; currency: string },
  locale?: string,
): string {
  const counted = countedUnit(estimate.unit);
  if (counted === null) return unitCount(estimate.unitQuantity, estimate.unit);
  // Two decimals at most, as counts are shown: float noise (0.05 × 1000 = 50.000000000000004) goes.
  const count = Math.round(estimate.unitQuantity * counted.per * 100) / 100;
  const quantity = unitCount(count, counted.noun);
  return counted.per === 1 ? quantity : `${quantity} at ${formatUnitPrice(estimate, locale)}`;
}

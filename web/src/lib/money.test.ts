import { describe, expect, it } from 'vitest';
import { countedUnit, estimateQuantity, formatCost, formatUnitPrice } from './money';

describe('formatCost', () => {
  it.each([
    [0.03, '$0.03'],
    [0.005, 'under $0.01'],
    [0.0001, 'under $0.01'],
    [0.01, '$0.01'],
    [0, '$0.00'],
    [12.5, '$12.50'],
  ])('%s → %s', (amount, expected) => {
    expect(formatCost(amount, 'USD', 'en-US')).toBe(expected);
  });
});

describe('countedUnit', () => {
  it('reads a unit that counts a smaller one', () => {
    expect(countedUnit('1000 characters')).toEqual({ per: 1000, noun: 'characters' });
    expect(countedUnit('1,000 characters')).toEqual({ per: 1000, noun: 'characters' });
    expect(countedUnit('1k tokens')).toEqual({ per: 1000, noun: 'tokens' });
    expect(countedUnit('1M tokens')).toEqual({ per: 1_000_000, noun: 'tokens' });
  });

  it('leaves plain units alone', () => {
    expect(countedUnit('image')).toBeNull();
    expect(countedUnit('seconds')).toBeNull();
    expect(countedUnit('0 characters')).toBeNull();
  });
});

describe('formatUnitPrice', () => {
  it('writes the count of a counted unit as people write numbers', () => {
    expect(formatUnitPrice({ unitPrice: 0.1, unit: '1000 characters', currency: 'USD' }, 'en-US')).toBe('$0.10 per 1,000 characters');
    expect(formatUnitPrice({ unitPrice: 0.28, unit: 'seconds', currency: 'USD' }, 'en-US')).toBe('$0.28 per second');
    expect(formatUnitPrice({ unitPrice: 0.0025, unit: '1 image', currency: 'USD' }, 'en-US')).toBe('$0.0025 per image');
  });
});

describe('estimateQuantity', () => {
  const estimate = (unitQuantity: number, unit: string, unitPrice: number) => ({ unitQuantity, unit, unitPrice, currency: 'USD' });

  it('says plain units as a count', () => {
    expect(estimateQuantity(estimate(1, 'image', 0.03), 'en-US')).toBe('1 image');
    expect(estimateQuantity(estimate(8, 'seconds', 0.4), 'en-US')).toBe('8 seconds');
  });

  it('says counted units in the smaller unit, with the price', () => {
    expect(estimateQuantity(estimate(0.05, '1000 characters', 0.1), 'en-US')).toBe('50 characters at $0.10 per 1,000 characters');
    expect(estimateQuantity(estimate(0.001, '1000 characters', 0.1), 'en-US')).toBe('1 character at $0.10 per 1,000 characters');
    expect(estimateQuantity(estimate(2.5, '1k tokens', 0.002), 'en-US')).toBe('2,500 tokens at $0.002 per 1,000 tokens');
  });
});

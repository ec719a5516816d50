import { describe, expect, it } from 'vitest';
import { AssertionFailed } from './assert.ts';
import { addMoney, currencyExponent, formatMoney, moneyFromScaled, parseCurrency, parseMoney } from './money.ts';

const code = (text: string) => {
  const parsed = parseCurrency(text);
  if (!parsed.ok) throw new Error(parsed.error.message);
  return parsed.value;
};

describe('money', () => {
  it('knows ISO 4217 exponents for 0-, 2-, 3- and 4-decimal currencies', () => {
    expect(['JPY', 'EUR', 'KWD', 'CLF', 'ISK', 'MGA'].map((c) => currencyExponent(code(c)))).toEqual([
      0, 2, 3, 4, 0, 2,
    ]);
  });

  it('refuses unknown currencies and those without a minor unit, with a remedy', () => {
    const unknown = parseCurrency('EURO');
    expect(unknown).toEqual({
      ok: false,
      error: {
        code: 'UnknownCurrency',
        currency: 'EURO',
        message: "unknown currency 'EURO': use an ISO 4217 alphabetic code with a minor unit, e.g. EUR",
      },
    });
    expect(parseCurrency('XAU').ok).toBe(false);
    expect(parseCurrency('eur').ok).toBe(false);
  });

  it('formats and parses in the currency unit, never rounding on input', () => {
    expect(formatMoney({ minor: 1234n, currency: code('EUR') })).toBe('12.34');
    expect(formatMoney({ minor: 1234n, currency: code('JPY') })).toBe('1234');
    expect(formatMoney({ minor: 1234n, currency: code('KWD') })).toBe('1.234');
    expect(parseMoney('12.3', code('EUR'))).toEqual({ minor: 1230n, currency: 'EUR' });
    expect(parseMoney('12.345', code('EUR'))).toBeUndefined();
  });

  it('rounds exact values to the minor unit once, with the chosen mode', () => {
    expect(moneyFromScaled(1_2345n, 4, code('EUR'), 'half-up').minor).toBe(123n);
    expect(moneyFromScaled(1_2350n, 4, code('EUR'), 'half-even').minor).toBe(124n);
    expect(moneyFromScaled(1_2250n, 4, code('EUR'), 'half-even').minor).toBe(122n);
    expect(moneyFromScaled(1_2250n, 4, code('JPY'), 'half-up').minor).toBe(1n);
  });

  it('refuses to add different currencies', () => {
    expect(() => addMoney({ minor: 1n, currency: code('EUR') }, { minor: 1n, currency: code('USD') })).toThrow(
      AssertionFailed,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { signDunningLink, verifyDunningLink } from './dunning-link.ts';

const SECRET = 'a-secret-of-at-least-thirty-two-characters!';
const ID = '0b7e2f8e-54c1-4a2d-9a53-1f2e3d4c5b6a';

describe('dunning pay links', () => {
  it('round-trips the payment id and expiry, and stays short', () => {
    const token = signDunningLink({ paymentId: ID, expiresAtS: 2_000_000_000 }, SECRET);
    expect(token.length).toBeLessThanOrEqual(50);
    expect(verifyDunningLink(token, SECRET, 1_900_000_000)).toEqual({
      ok: true,
      value: { paymentId: ID, expiresAtS: 2_000_000_000 },
    });
  });
  it('refuses expired, forged and foreign links', () => {
    const token = signDunningLink({ paymentId: ID, expiresAtS: 2_000_000_000 }, SECRET);
    expect(verifyDunningLink(token, SECRET, 2_000_000_000)).toMatchObject({
      ok: false,
      error: { code: 'PayLinkExpired' },
    });
    expect(verifyDunningLink(token, `${SECRET}x`, 1)).toMatchObject({ ok: false, error: { code: 'PayLinkInvalid' } });
    const [payload, signature] = token.split('.');
    const other = signDunningLink({ paymentId: ID.replace('0b7e', '0b7f'), expiresAtS: 2_000_000_000 }, SECRET);
    expect(verifyDunningLink(`${other.split('.')[0]}.${signature}`, SECRET, 1)).toMatchObject({ ok: false });
    expect(verifyDunningLink(`${payload}.${signature}.x`, SECRET, 1)).toMatchObject({ ok: false });
    expect(verifyDunningLink('', SECRET, 1)).toMatchObject({ ok: false });
  });
});

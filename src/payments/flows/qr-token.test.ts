import { describe, expect, it } from 'vitest';
import { holdAmountMinor } from './hold-amount.ts';
import { signQrToken, verifyQrToken } from './qr-token.ts';

const SECRET = 'x'.repeat(40);

describe('ad-hoc QR tokens', () => {
  const token = signQrToken({ stationId: 'DEMO-0001', evseId: 1, expiresAtS: 1000 }, SECRET);
  it('verifies its own tokens until they expire', () => {
    expect(verifyQrToken(token, SECRET, 999)).toEqual({
      ok: true,
      value: { stationId: 'DEMO-0001', evseId: 1, expiresAtS: 1000 },
    });
    const expired = verifyQrToken(token, SECRET, 1000);
    expect(!expired.ok && expired.error.code).toBe('QrTokenExpired');
  });
  it('refuses a token signed with another secret or naming another EVSE', () => {
    const other = verifyQrToken(token, 'y'.repeat(40), 1);
    expect(!other.ok && other.error.code).toBe('QrTokenInvalid');
    const signature = token.split('.')[1];
    const moved = Buffer.from(JSON.stringify({ s: 'DEMO-0002', e: 1, x: 1000 })).toString('base64url');
    const forged = verifyQrToken(`${moved}.${signature}`, SECRET, 1);
    expect(!forged.ok && forged.error.code).toBe('QrTokenInvalid');
    expect(verifyQrToken('garbage', SECRET, 1).ok).toBe(false);
  });
});

describe('hold amount', () => {
  it('uses the token amount or the default, capped', () => {
    expect(holdAmountMinor(null, 5000n, 15_000n)).toBe(5000n);
    expect(holdAmountMinor(8000n, 5000n, 15_000n)).toBe(8000n);
    expect(holdAmountMinor(20_000n, 5000n, 15_000n)).toBe(15_000n);
  });
});

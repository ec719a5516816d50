import { describe, expect, it } from 'vitest';
import { authenticateStation } from './authenticate-station.ts';
import { FailureLimiter } from './failure-limiter.ts';
import { hashPassword } from './password-hash.ts';

describe('station authentication by security profile', () => {
  it('never lets a station connect below its profile or the node minimum', async () => {
    const hash = await hashPassword('a-good-password-123');
    const p1 = { id: 'S1', security_profile: 1, password_hash: hash };
    const plain = { tls: false };
    const tls = { tls: true, clientCertificate: { presented: false, authorized: false } };
    const pw = Buffer.from('a-good-password-123');
    expect(await authenticateStation(p1, pw, plain, 0)).toEqual({ ok: true, profile: 1 });
    expect(await authenticateStation(p1, pw, plain, 2)).toMatchObject({
      ok: false,
      status: 403,
      reason: 'TlsRequired',
    });
    expect(await authenticateStation(p1, pw, tls, 2)).toEqual({ ok: true, profile: 2 });
    expect(await authenticateStation(p1, Buffer.from('nope'), tls, 2)).toMatchObject({ reason: 'PasswordWrong' });
    expect(await authenticateStation(p1, pw, tls, 3)).toMatchObject({ reason: 'ClientCertificateMissing' });
    const p0 = { id: 'S0', security_profile: 0, password_hash: null };
    expect(await authenticateStation(p0, undefined, plain, 0)).toEqual({ ok: true, profile: 0 });
    expect(await authenticateStation(p0, pw, plain, 1)).toMatchObject({
      reason: 'NoPasswordSet',
      countsAsFailure: false,
    });
    expect(await authenticateStation(undefined, undefined, plain, 0)).toEqual({ ok: true, profile: 0 });
    expect(await authenticateStation(undefined, pw, plain, 1)).toMatchObject({ status: 401, reason: 'UnknownStation' });
    const p3 = { id: 'S3', security_profile: 3, password_hash: null };
    const cert = (authorized: boolean, commonName: string) => ({
      tls: true,
      clientCertificate: { presented: true, authorized, commonName },
    });
    expect(await authenticateStation(p3, undefined, cert(true, 'S3'), 0)).toEqual({ ok: true, profile: 3 });
    expect(await authenticateStation(p3, undefined, cert(true, 'S4'), 0)).toMatchObject({
      reason: 'ClientCertificateForeignIdentity',
    });
    expect(await authenticateStation(p3, undefined, cert(false, 'S3'), 0)).toMatchObject({
      reason: 'ClientCertificateInvalid',
    });
  });

  it('counts failures in a sliding window', () => {
    const limiter = new FailureLimiter(2, 1000);
    limiter.record('k', 0);
    expect(limiter.blocked('k', 10)).toBe(false);
    limiter.record('k', 500);
    expect(limiter.blocked('k', 600)).toBe(true);
    expect(limiter.blocked('k', 1001)).toBe(false);
  });
});

/**
 * Station security profiles with real clients over real sockets (ws:// and wss://, Basic auth, client
 * certificates): every refused case is refused during the handshake, before any OCPP message is read, and a
 * second connection displaces a connected station only after it authenticated.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '../src/main.ts';
import {
  type CertificateAuthority,
  createCertificateAuthority,
  type IssuedCertificate,
  issueCertificate,
} from '../src/ocpp/security/generate-certificates.ts';
import { addStation } from '../src/ocpp/station-registry.ts';
import { connectV201Station, type V201Station } from './support/ocpp-v201-client.ts';
import { postgresSkipReason } from './support/test-database.ts';
import { startTestServer } from './support/test-server.ts';

const skip = postgresSkipReason();
const HOUR_MS = 3_600_000;
const PASSWORD_A = 'correct-horse-battery-A1';
const PASSWORD_B = 'correct-horse-battery-B2';

type Pki = {
  dir: string;
  ca: CertificateAuthority;
  server: IssuedCertificate;
  client3: IssuedCertificate;
  expired3: IssuedCertificate;
  foreign3: IssuedCertificate;
  otherStation: IssuedCertificate;
};

async function makePki(): Promise<Pki> {
  const now = Date.now();
  const valid = { notBefore: new Date(now - HOUR_MS), notAfter: new Date(now + 24 * HOUR_MS) };
  const ca = await createCertificateAuthority('Voltbill Test CA', valid);
  const foreignCa = await createCertificateAuthority('Someone Else CA', valid);
  const client = (authority: CertificateAuthority, cn: string, validity = valid) =>
    issueCertificate(authority, { kind: 'client', commonName: cn, organization: 'Voltbill Test CPO', validity });
  const pki = {
    dir: await mkdtemp(path.join(tmpdir(), 'voltbill-pki-')),
    ca,
    server: await issueCertificate(ca, {
      kind: 'server',
      commonName: 'localhost',
      hosts: ['localhost', '127.0.0.1'],
      validity: valid,
    }),
    client3: await client(ca, 'SEC-P3'),
    expired3: await client(ca, 'SEC-P3', {
      notBefore: new Date(now - 48 * HOUR_MS),
      notAfter: new Date(now - 24 * HOUR_MS),
    }),
    foreign3: await client(foreignCa, 'SEC-P3'),
    otherStation: await client(ca, 'SEC-P3-OTHER'),
  };
  await writeFile(path.join(pki.dir, 'server.pem'), pki.server.certPem);
  await writeFile(path.join(pki.dir, 'server.key'), pki.server.keyPem);
  await writeFile(path.join(pki.dir, 'ca.pem'), ca.certPem);
  return pki;
}

/** Opens a raw WebSocket handshake and resolves with the HTTP status of the refusal (or 101 when it opened). */
function handshakeStatus(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}) {
  return new Promise<number>((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? ['ocpp2.0.1'], options);
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('open', () => {
      resolve(101);
      socket.close();
    });
    socket.once('error', (error) => reject(error));
  });
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe.skipIf(skip)('OCPP security profiles', () => {
  let server: RunningServer;
  let pki: Pki;
  const open: { close(o?: { force?: boolean }): Promise<unknown> }[] = [];

  beforeAll(async () => {
    pki = await makePki();
    server = await startTestServer({
      VOLTBILL_OCPP_MIN_SECURITY_PROFILE: '1',
      VOLTBILL_OCPP_TLS_PORT: '0',
      VOLTBILL_OCPP_TLS_CERT: path.join(pki.dir, 'server.pem'),
      VOLTBILL_OCPP_TLS_KEY: path.join(pki.dir, 'server.key'),
      VOLTBILL_OCPP_TLS_CA: path.join(pki.dir, 'ca.pem'),
      VOLTBILL_OCPP_MAX_AUTH_FAILURES_PER_STATION: '6',
      VOLTBILL_OCPP_MAX_AUTH_FAILURES_PER_IP: '1000',
    });
    const db = server.database.db;
    const operator = await db.selectFrom('operators').select('id').executeTakeFirstOrThrow();
    const add = async (id: string, securityProfile: number, password?: string) => {
      const added = await addStation(db, {
        id,
        operatorId: operator.id,
        securityProfile,
        ...(password !== undefined && { password }),
      });
      expect(added.ok).toBe(true);
    };
    await add('SEC-P1', 1, PASSWORD_A);
    await add('SEC-P1-B', 1, PASSWORD_B);
    await add('SEC-P2', 2, PASSWORD_A);
    await add('SEC-P3', 3);
    await add('SEC-P3-OTHER', 3);
    await add('SEC-LOCK', 1, PASSWORD_A);
  }, 180_000);
  afterAll(async () => {
    for (const s of open) await s.close({ force: true });
    await server?.close();
    if (pki) await rm(pki.dir, { recursive: true, force: true });
  });

  const wsUrl = (id: string) => `${server.ocppUrl}/${id}`;
  const wssUrl = (id: string) => `${server.ocppTlsUrl}/${id}`;
  const tlsTrust = () => ({ ca: pki.ca.certPem });
  const loggedFrames = async (stationId: string) => {
    const row = await server.database.db
      .selectFrom('ocpp_messages')
      .select(server.database.db.fn.countAll().as('n'))
      .where('station_id', '=', stationId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };
  /**
   * The frames logged once the log's group commit has caught up: an inbound frame is durable before its reply,
   * but the reply's own (outbound) frame is queued for the next batch, so it can land just after the client saw it.
   */
  const settledLoggedFrames = async (stationId: string, expected: number) => {
    const deadline = Date.now() + 5_000;
    let n = await loggedFrames(stationId);
    while (n < expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      n = await loggedFrames(stationId);
    }
    return n;
  };
  const refusedCount = async (reason: string) => {
    const metrics = await server.app.inject({ method: 'GET', url: '/metrics' });
    const line = metrics.body
      .split('\n')
      .find((l) => l.startsWith(`voltbill_ocpp_connections_refused_total{reason="${reason}"}`));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  async function boot(station: V201Station) {
    const reply = await station.call('BootNotification', {
      chargingStation: { vendorName: 'ACME', model: 'AC22' },
      reason: 'PowerUp',
    });
    expect(reply.status).toBe('Accepted');
  }

  it('profile 1: the right password connects, over OCPP 2.0.1 and 1.6', async () => {
    const v201 = await connectV201Station(server, 'SEC-P1', { password: PASSWORD_A });
    open.push(v201);
    await boot(v201);
    await v201.close({ force: true });
    const v16 = await connectV201Station(server, 'SEC-P1-B', { password: PASSWORD_B, protocols: ['ocpp1.6'] });
    open.push(v16);
    expect(v16.protocol).toBe('ocpp1.6');
    const reply = await v16.call('BootNotification', { chargePointVendor: 'ACME', chargePointModel: 'X' });
    expect(reply.status).toBe('Accepted');
    await v16.close({ force: true });
  });

  it('refuses a wrong password, another station credentials, no password and an unknown station (401)', async () => {
    const before = await refusedCount('PasswordWrong');
    await expect(connectV201Station(server, 'SEC-P1-B', { password: PASSWORD_A })).rejects.toMatchObject({ code: 401 });
    // Station B's own id and password, presented on station A's URL: the username is not A, so no password counts.
    expect(await handshakeStatus(wsUrl('SEC-P1'), { headers: { authorization: basic('SEC-P1-B', PASSWORD_B) } })).toBe(
      401,
    );
    // Station B's password with station A's name.
    expect(await handshakeStatus(wsUrl('SEC-P1'), { headers: { authorization: basic('SEC-P1', PASSWORD_B) } })).toBe(
      401,
    );
    expect(await handshakeStatus(wsUrl('SEC-P1'))).toBe(401);
    expect(
      await handshakeStatus(wsUrl('NOBODY-7'), { headers: { authorization: basic('NOBODY-7', PASSWORD_A) } }),
    ).toBe(401);
    // A demo station at profile 0 has no password: the node's minimum profile 1 refuses it.
    expect(await handshakeStatus(wsUrl('DEMO-0003'))).toBe(401);
    expect(await refusedCount('PasswordWrong')).toBe(before + 2);
    expect(await refusedCount('PasswordMissing')).toBeGreaterThanOrEqual(2);
    expect(await refusedCount('UnknownStation')).toBe(1);
    expect(await loggedFrames('NOBODY-7')).toBe(0);
  });

  it('profile 2: TLS with the password connects; plain ws:// is refused even with the right password (403)', async () => {
    expect(await handshakeStatus(wsUrl('SEC-P2'), { headers: { authorization: basic('SEC-P2', PASSWORD_A) } })).toBe(
      403,
    );
    await expect(
      connectV201Station(server, 'SEC-P2', { endpoint: server.ocppTlsUrl as string, tls: tlsTrust() }),
    ).rejects.toMatchObject({ code: 401 });
    const station = await connectV201Station(server, 'SEC-P2', {
      endpoint: server.ocppTlsUrl as string,
      password: PASSWORD_A,
      tls: tlsTrust(),
    });
    open.push(station);
    await boot(station);
    await station.close({ force: true });
    expect(await settledLoggedFrames('SEC-P2', 2)).toBe(2);
  });

  it('profile 3: only a valid client certificate of the station itself, issued by the operator CA, connects', async () => {
    const withCert = (cert: IssuedCertificate) => ({ ...tlsTrust(), cert: cert.certPem, key: cert.keyPem });
    const station = await connectV201Station(server, 'SEC-P3', {
      endpoint: server.ocppTlsUrl as string,
      tls: withCert(pki.client3),
    });
    open.push(station);
    await boot(station);
    await station.close({ force: true });
    const framesBefore = await settledLoggedFrames('SEC-P3', 2);
    expect(await handshakeStatus(wssUrl('SEC-P3'), withCert(pki.expired3))).toBe(401);
    expect(await handshakeStatus(wssUrl('SEC-P3'), withCert(pki.foreign3))).toBe(401);
    expect(await handshakeStatus(wssUrl('SEC-P3'), withCert(pki.otherStation))).toBe(401);
    // A password instead of the certificate is a downgrade.
    expect(
      await handshakeStatus(wssUrl('SEC-P3'), {
        ...tlsTrust(),
        headers: { authorization: basic('SEC-P3', PASSWORD_A) },
      }),
    ).toBe(401);
    expect(await handshakeStatus(wsUrl('SEC-P3'))).toBe(403);
    expect(await refusedCount('ClientCertificateInvalid')).toBe(2);
    expect(await refusedCount('ClientCertificateForeignIdentity')).toBe(1);
    expect(await refusedCount('ClientCertificateMissing')).toBe(1);
    expect(await loggedFrames('SEC-P3')).toBe(framesBefore);
  });

  it('keeps a connected station when a second connection fails to authenticate; displaces it only after success', async () => {
    const first = await connectV201Station(server, 'SEC-P1', { password: PASSWORD_A });
    open.push(first);
    await boot(first);
    let firstClosed = false;
    first.on('close', () => {
      firstClosed = true;
    });
    await expect(connectV201Station(server, 'SEC-P1', { password: 'wrong-password-123456' })).rejects.toMatchObject({
      code: 401,
    });
    expect(await handshakeStatus(wsUrl('SEC-P1'))).toBe(401);
    await expect(first.call('Heartbeat', {})).resolves.toHaveProperty('currentTime');
    expect(firstClosed).toBe(false);
    expect(server.gateway.connectedStations()).toContain('SEC-P1');

    const second = await connectV201Station(server, 'SEC-P1', { password: PASSWORD_A });
    open.push(second);
    await expect.poll(() => firstClosed).toBe(true);
    await expect(second.call('Heartbeat', {})).resolves.toHaveProperty('currentTime');
    const metrics = await server.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain('voltbill_ocpp_connections_displaced_total 1');
    await second.close({ force: true });
  });

  it('locks a station id out after repeated failed authentications, even for the right password (429)', async () => {
    for (let i = 0; i < 6; i++) {
      expect(
        await handshakeStatus(wsUrl('SEC-LOCK'), {
          headers: { authorization: basic('SEC-LOCK', `wrong-${i}-abcdefghijkl`) },
        }),
      ).toBe(401);
    }
    expect(
      await handshakeStatus(wsUrl('SEC-LOCK'), { headers: { authorization: basic('SEC-LOCK', PASSWORD_A) } }),
    ).toBe(429);
    // Other stations from the same address are not affected by this station's lockout.
    const other = await connectV201Station(server, 'SEC-P1-B', { password: PASSWORD_B });
    await other.close({ force: true });
  });
});

describe.skipIf(skip)('OCPP connection limits per address', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTestServer({
      VOLTBILL_OCPP_MIN_SECURITY_PROFILE: '1',
      VOLTBILL_OCPP_MAX_AUTH_FAILURES_PER_IP: '3',
      VOLTBILL_OCPP_MAX_PENDING_CONNECTIONS_PER_IP: '2',
    });
    const db = server.database.db;
    const operator = await db.selectFrom('operators').select('id').executeTakeFirstOrThrow();
    await addStation(db, { id: 'LIM-1', operatorId: operator.id, securityProfile: 1, password: PASSWORD_A });
  }, 180_000);
  afterAll(async () => {
    await server?.close();
  });

  it('closes connections beyond the unauthenticated limit of an address, then serves it again', async () => {
    const { connect } = await import('node:net');
    const idle = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<import('node:net').Socket>((resolve) => {
            const socket = connect(server.ocppPort, '127.0.0.1', () => resolve(socket));
          }),
      ),
    );
    await expect(connectV201Station(server, 'LIM-1', { password: PASSWORD_A })).rejects.toThrow();
    for (const socket of idle) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const station = await connectV201Station(server, 'LIM-1', { password: PASSWORD_A });
    await station.close({ force: true });
  });

  it('refuses an address after repeated failed authentications (429)', async () => {
    const url = `${server.ocppUrl}/LIM-1`;
    for (let i = 0; i < 3; i++) {
      expect(
        await handshakeStatus(url, { headers: { authorization: basic('LIM-1', `wrong-${i}-abcdefghijkl`) } }),
      ).toBe(401);
    }
    expect(await handshakeStatus(url, { headers: { authorization: basic('LIM-1', PASSWORD_A) } })).toBe(429);
  });
});

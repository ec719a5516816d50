/**
 * The station row read while authenticating a connection answers the BootNotification that follows it (one lookup
 * less per connect), once and only while fresh; a 1.6 station that reconnects without booting is known at once.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { StationConnection } from '../src/ocpp/station-connection.ts';
import { demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import { findStation } from '../src/stations/station-store.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

describe.skipIf(postgresSkipReason())('station connection: the handshake row', () => {
  let handle: DatabaseHandle;
  const id = demoStationId(1);

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
  });
  afterAll(async () => handle?.close());

  it('is known from the handshake, answers the first boot, then the database answers', async () => {
    const row = await findStation(handle.db, id);
    expect(row?.registration_status).toBe('Accepted');
    const station = new StationConnection(id, 'ocpp1.6', handle.db, undefined, { row, readAtMs: Date.now() });
    expect(station.registrationStatus).toBe('Accepted');
    expect(await station.operatorId()).toBe(row?.operator_id);
    // The operator rejects the station after the handshake: the first boot still uses the handshake's row (read
    // milliseconds earlier), every later boot reads the change.
    await handle.db.updateTable('stations').set({ registration_status: 'Rejected' }).where('id', '=', id).execute();
    expect((await station.rowForBoot())?.registration_status).toBe('Accepted');
    expect((await station.rowForBoot())?.registration_status).toBe('Rejected');
    await handle.db.updateTable('stations').set({ registration_status: 'Accepted' }).where('id', '=', id).execute();
  });

  it('reads the row again when the handshake was more than 5 s before the boot', async () => {
    const row = await findStation(handle.db, id);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const station = new StationConnection(id, 'ocpp1.6', handle.db, undefined, { row, readAtMs: Date.now() });
      await handle.db.updateTable('stations').set({ registration_status: 'Pending' }).where('id', '=', id).execute();
      vi.setSystemTime(Date.now() + 5_001);
      expect((await station.rowForBoot())?.registration_status).toBe('Pending');
    } finally {
      vi.useRealTimers();
      await handle.db.updateTable('stations').set({ registration_status: 'Accepted' }).where('id', '=', id).execute();
    }
  });

  it('an unknown station stays unknown until its boot registers it', async () => {
    const station = new StationConnection('NEW-1', 'ocpp1.6', handle.db, undefined, {
      row: undefined,
      readAtMs: Date.now(),
    });
    expect(station.registrationStatus).toBe('Unknown');
    expect(await station.rowForBoot()).toBeUndefined();
  });
});

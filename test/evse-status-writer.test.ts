/**
 * EVSE statuses group-committed (src/stations/evse-status-writer.ts) on a real database (both): one statement per
 * batch, the newest status of an EVSE wins whatever the order it arrived in, an older one never overwrites a stored
 * newer one, and an EVSE number no row can have neither fails the batch nor changes anything.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseHandle } from '../src/db/open-database.ts';
import { demoStationId, seedDemo } from '../src/seed/seed-demo.ts';
import {
  createEvseStatusWriter,
  type EvseStatusUpdate,
  writeEvseStatuses,
} from '../src/stations/evse-status-writer.ts';
import { openTestDatabase, postgresSkipReason } from './support/test-database.ts';

const skip = postgresSkipReason();
const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 8, minute));

describe.skipIf(skip)('EVSE statuses written in batches', () => {
  let handle: DatabaseHandle;

  beforeAll(async () => {
    handle = await openTestDatabase();
    await seedDemo(handle.db, 'half-up');
  });
  afterAll(async () => {
    await handle?.close();
  });

  const statusOf = async (station: number) =>
    handle.db
      .selectFrom('evses')
      .select(['status', 'error_code', 'status_at'])
      .where('station_id', '=', demoStationId(station))
      .where('evse_id', '=', 1)
      .executeTakeFirstOrThrow();
  const update = (station: number, status: string, minute: number, errorCode = 'NoError'): EvseStatusUpdate => ({
    stationId: demoStationId(station),
    evseId: 1,
    status,
    errorCode,
    at: at(minute),
  });

  it('writes a batch of several EVSEs in one statement; of one EVSE the newest status wins, in any order', async () => {
    const changed = await writeEvseStatuses(handle.db, [
      update(1, 'Charging', 5),
      update(2, 'Preparing', 1),
      update(1, 'Finishing', 7),
      update(1, 'Preparing', 3),
      update(2, 'Faulted', 2, 'GroundFailure'),
    ]);
    expect(changed).toBe(2);
    expect(await statusOf(1)).toEqual({ status: 'Finishing', error_code: 'NoError', status_at: at(7) });
    expect(await statusOf(2)).toEqual({ status: 'Faulted', error_code: 'GroundFailure', status_at: at(2) });
  });

  it('never overwrites a stored status with an older one (a late retry); the same time again is written', async () => {
    expect(await writeEvseStatuses(handle.db, [update(1, 'Available', 6)])).toBe(0);
    expect(await statusOf(1)).toEqual({ status: 'Finishing', error_code: 'NoError', status_at: at(7) });
    expect(await writeEvseStatuses(handle.db, [update(1, 'Available', 7)])).toBe(1);
    expect((await statusOf(1)).status).toBe('Available');
  });

  it('leaves out an EVSE number no row can have, and writes the rest of its batch', async () => {
    const writer = createEvseStatusWriter(handle.db);
    const outOfRange = { ...update(3, 'Unavailable', 9), evseId: 2 ** 40 };
    const fractional = { ...update(3, 'Unavailable', 9), evseId: 1.5 };
    // Queued in one tick: they go in one batch, as concurrent stations' statuses do.
    await Promise.all([
      writer.enqueue(outOfRange),
      writer.enqueue(fractional),
      writer.enqueue(update(3, 'Charging', 9)),
    ]);
    expect(await statusOf(3)).toEqual({ status: 'Charging', error_code: 'NoError', status_at: at(9) });
    expect(await writeEvseStatuses(handle.db, [outOfRange, { ...update(3, 'Faulted', 10), evseId: 0 }])).toBe(0);
    expect((await statusOf(3)).status).toBe('Charging');
  });
});

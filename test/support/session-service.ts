/**
 * A session service on a test database, as the server builds it but without payments (billing hooks only when
 * given): the samples group-committed, a fixed clock, silent logs. For tests of the session paths' statements.
 */
import type { Kysely } from 'kysely';
import pino from 'pino';
import type { BillingHook } from '../../src/billing/billing-hooks.ts';
import { BatchWriter } from '../../src/db/batch-writer.ts';
import type { Database } from '../../src/db/schema.ts';
import { demoIdTag, demoStationId } from '../../src/seed/seed-demo.ts';
import { createSessionService, type SessionService } from '../../src/sessions/session-service.ts';
import { insertSamples, type SampleRow } from '../../src/sessions/session-store.ts';
import { fixedClock } from '../../src/shared/clock.ts';

export function createTestSessionService(
  db: Kysely<Database>,
  now: Date,
  billingHooks: readonly BillingHook[] = [],
): SessionService {
  return createSessionService({
    db,
    clock: fixedClock(now),
    logger: pino({ level: 'silent' }),
    sampleWriter: new BatchWriter<SampleRow>((rows) => insertSamples(db, rows), {
      maxBatchItems: 100,
      maxQueuedItems: 10_000,
    }),
    maxSamplesPerSession: 1000,
    billingHooks,
  });
}

/** Starts a session of demo station `station` (EVSE 1) with its demo token; returns its id, or throws if refused. */
export async function startDemoSession(
  service: SessionService,
  station: number,
  transactionId: string,
  startedAt: Date,
): Promise<string> {
  const started = await service.start({
    kind: 'TransactionStarted',
    stationId: demoStationId(station),
    evseId: 1,
    connectorId: 1,
    idTag: demoIdTag(station),
    meterStartWh: 1000n,
    startedAt,
    transactionId,
  });
  if (!started.ok) throw new Error(`the start was refused: ${JSON.stringify(started)}`);
  return started.sessionId;
}

/** What the gateway knows about one open station connection. */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { findStation } from '../stations/station-store.ts';

/** Sends a request to the station over its connection and resolves with its reply. */
export type StationCall = (method: string, params: Record<string, unknown>) => Promise<unknown>;

export class StationConnection {
  /** Registration status as last read or set by BootNotification; 'Unknown' until the station is looked up. */
  registrationStatus = 'Unknown';
  #operatorId: string | null | undefined;

  constructor(
    readonly stationId: string,
    readonly protocol: string,
    private readonly db: Kysely<Database>,
    /** Requests to the station (CostUpdated, commands); absent where there is no live socket (unit tests). */
    readonly call?: StationCall,
  ) {}

  /** Re-reads the station row: after a boot, or when an operator may have accepted it meanwhile. */
  async refresh(): Promise<void> {
    const row = await findStation(this.db, this.stationId);
    this.registrationStatus = row?.registration_status ?? 'Unknown';
    this.#operatorId = row?.operator_id ?? null;
  }

  async isAccepted(): Promise<boolean> {
    if (this.registrationStatus !== 'Accepted') await this.refresh();
    return this.registrationStatus === 'Accepted';
  }

  async operatorId(): Promise<string | null> {
    if (this.#operatorId === undefined) await this.refresh();
    return this.#operatorId ?? null;
  }
}

/** What the gateway knows about one open station connection. */
import type { Kysely } from 'kysely';
import type { Database, StationRow } from '../db/schema.ts';
import { findStation } from '../stations/station-store.ts';

/** The station's row as read while authenticating the connection (undefined: unknown station), and when. */
export type KnownStation = { readonly row: StationRow | undefined; readonly readAtMs: number };

/**
 * How old the handshake's row may be to answer the connection's first BootNotification: a station boots right
 * after connecting; a boot minutes later reads the row again (an operator may have accepted or rejected it).
 */
const HANDSHAKE_ROW_FRESH_MS = 5_000;

/** Sends a request to the station over its connection and resolves with its reply. */
export type StationCall = (method: string, params: Record<string, unknown>) => Promise<unknown>;

export class StationConnection {
  /** Registration status as last read or set by BootNotification; 'Unknown' until the station is looked up. */
  registrationStatus = 'Unknown';
  #operatorId: string | null | undefined;
  #known: KnownStation | undefined;

  constructor(
    readonly stationId: string,
    readonly protocol: string,
    private readonly db: Kysely<Database>,
    /** Requests to the station (CostUpdated, commands); absent where there is no live socket (unit tests). */
    readonly call?: StationCall,
    /** The row read during the handshake: a 1.6 station that reconnects without booting needs no lookup. */
    known?: KnownStation,
  ) {
    if (known?.row) {
      this.registrationStatus = known.row.registration_status;
      this.#operatorId = known.row.operator_id;
    }
    this.#known = known;
  }

  /** The station row for a BootNotification: the handshake's when it is fresh (used once), else read again. */
  async rowForBoot(): Promise<StationRow | undefined> {
    const known = this.#known;
    this.#known = undefined;
    if (known && Date.now() - known.readAtMs <= HANDSHAKE_ROW_FRESH_MS) return known.row;
    return findStation(this.db, this.stationId);
  }

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

/**
 * Tariff versions read and parsed once per process: a stored version is never changed (tariff-store.ts saves a
 * new version instead; the tariff's code is fixed too), so the row and its parse are the same on every read. Every
 * stop prices with the version frozen at its start, and most stops of a network share a few versions.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { parseTariff } from '../tariff/parse-tariff.ts';
import { loadTariffVersion, type TariffVersionRecord } from '../tariff/tariff-store.ts';

export type ParsedTariffVersion = {
  readonly record: TariffVersionRecord;
  readonly tariff: ReturnType<typeof parseTariff>;
};

/** Versions kept at most (each a parsed tariff of a few KiB); beyond that the least recently used is dropped. */
export const DEFAULT_TARIFF_VERSIONS_KEPT = 1000;

export class TariffVersionCache {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, ParsedTariffVersion>();

  constructor(maxEntries = DEFAULT_TARIFF_VERSIONS_KEPT) {
    this.#maxEntries = maxEntries;
  }

  /** The version and its parse; undefined when no such version is stored (nothing is kept then). */
  async get(db: Kysely<Database>, tariffVersionId: string): Promise<ParsedTariffVersion | undefined> {
    const kept = this.#entries.get(tariffVersionId);
    if (kept !== undefined) {
      // Most recently used last, so that the first key is the one to drop.
      this.#entries.delete(tariffVersionId);
      this.#entries.set(tariffVersionId, kept);
      return kept;
    }
    const record = await loadTariffVersion(db, tariffVersionId);
    if (record === undefined) return undefined;
    const entry: ParsedTariffVersion = { record, tariff: parseTariff(record.body) };
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(tariffVersionId, entry);
    return entry;
  }
}

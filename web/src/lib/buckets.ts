/**
 * Revenue and energy per day, week or month, for the dashboard's charts. Amounts are summed exactly as scaled
 * integers (the API sends decimal strings); only the chart's bar heights become floating-point pixels. Pure.
 */
import { decimalsOf, decimalToScaled, scaledToDecimal } from './format.ts';

export type Granularity = 'day' | 'week' | 'month';

export type BillableRecord = {
  readonly at: string;
  readonly energyWh: number;
  /** Total including VAT as a decimal string, in `currency`. */
  readonly amount: string;
  readonly currency: string;
  readonly group: string;
};

export type Bucket = {
  readonly key: string;
  readonly energyWh: number;
  /** Decimal strings per currency (a network may bill in several currencies). */
  readonly revenue: Readonly<Record<string, string>>;
  readonly count: number;
};

/** The bucket a UTC instant falls into: "2026-11-24", ISO week "2026-W48", or "2026-11". */
export function bucketKey(iso: string, granularity: Granularity): string {
  const date = new Date(iso);
  const y = date.getUTCFullYear();
  const m = String(date.getUTCMonth() + 1).padStart(2, '0');
  const d = String(date.getUTCDate()).padStart(2, '0');
  if (granularity === 'day') return `${y}-${m}-${d}`;
  if (granularity === 'month') return `${y}-${m}`;
  // ISO 8601 week: the week with the year's first Thursday is week 1.
  const t = new Date(Date.UTC(y, date.getUTCMonth(), date.getUTCDate()));
  const weekday = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${t.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}

/** Groups records by bucket (sorted ascending), optionally only those of one group (a location). */
export function bucketize(records: readonly BillableRecord[], granularity: Granularity, group?: string): Bucket[] {
  const sums = new Map<
    string,
    { energyWh: number; count: number; revenue: Map<string, { value: bigint; scale: number }> }
  >();
  for (const record of records) {
    if (group && record.group !== group) continue;
    const key = bucketKey(record.at, granularity);
    const entry = sums.get(key) ?? { energyWh: 0, count: 0, revenue: new Map() };
    entry.energyWh += record.energyWh;
    entry.count += 1;
    const scale = decimalsOf(record.amount);
    const value = decimalToScaled(record.amount, scale);
    if (value !== undefined) {
      const sum = entry.revenue.get(record.currency) ?? { value: 0n, scale };
      // Amounts of one currency share its exponent; rescale defensively if an amount has more decimals.
      if (scale > sum.scale) {
        sum.value *= 10n ** BigInt(scale - sum.scale);
        sum.scale = scale;
      }
      sum.value += value * 10n ** BigInt(sum.scale - scale);
      entry.revenue.set(record.currency, sum);
    }
    sums.set(key, entry);
  }
  return [...sums.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, e]) => ({
      key,
      energyWh: e.energyWh,
      count: e.count,
      revenue: Object.fromEntries([...e.revenue].map(([c, s]) => [c, scaledToDecimal(s.value, s.scale)])),
    }));
}

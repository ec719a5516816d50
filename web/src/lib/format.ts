/**
 * Display formatting for the pages. Amounts arrive from the API as exact decimal strings ("3.34") and are only
 * re-arranged as text here, never turned into floats. Pure: used by the pages and by unit tests.
 */

/** "3.34" + "EUR" → "EUR 3.34"; missing amounts show as an en dash. */
export function formatAmount(amount: string | null | undefined, currency: string | null | undefined): string {
  if (amount === null || amount === undefined || amount === '') return '–';
  return currency ? `${currency} ${amount}` : amount;
}

/** Integer Wh → "12.345 kWh", exact (integer arithmetic on the digits). */
export function formatEnergyWh(energyWh: number | null | undefined): string {
  if (energyWh === null || energyWh === undefined || !Number.isFinite(energyWh)) return '–';
  const whole = Math.trunc(energyWh);
  const sign = whole < 0 ? '-' : '';
  const digits = String(Math.abs(whole)).padStart(4, '0');
  return `${sign}${digits.slice(0, -3)}.${digits.slice(-3)} kWh`;
}

/** Watts → "11.0 kW" (one decimal is what a person reads off a charger). */
export function formatPowerW(powerW: number | null | undefined): string {
  if (powerW === null || powerW === undefined || !Number.isFinite(powerW)) return '–';
  return `${(powerW / 1000).toFixed(1)} kW`;
}

/** Seconds → "1 h 05 min" / "12 min" / "40 s". */
export function formatDurationS(durationS: number): string {
  const s = Math.max(0, Math.floor(durationS));
  if (s < 60) return `${s} s`;
  const minutes = Math.floor(s / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

/** An ISO instant in the viewer's local time, "2026-11-24 11:30" (sortable, unambiguous). */
export function formatDateTime(iso: string | null | undefined, timeZone?: string): string {
  if (!iso) return '–';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = new Intl.DateTimeFormat('en-CA', {
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    ...(timeZone && { timeZone }),
  }).formatToParts(date);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')}`;
}

/** Exact decimal string → integer of units at `scale` decimals ("3.4", 2 → 340n); undefined when not a decimal. */
export function decimalToScaled(text: string, scale: number): bigint | undefined {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) return undefined;
  const [, sign, whole, fraction = ''] = match;
  if (fraction.length > scale) return undefined;
  const value = BigInt(`${whole}${fraction.padEnd(scale, '0')}`);
  return sign === '-' ? -value : value;
}

/** Integer of units at `scale` decimals → decimal string (340n, 2 → "3.40"). */
export function scaledToDecimal(value: bigint, scale: number): string {
  const negative = value < 0n;
  const digits = (negative ? -value : value).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}

/** Number of decimals in a decimal string ("3.40" → 2). */
export function decimalsOf(text: string): number {
  const dot = text.indexOf('.');
  return dot < 0 ? 0 : text.length - dot - 1;
}

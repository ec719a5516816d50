import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { localTime } from './build-invoice-document.ts';

describe('localTime with kept zone formatters', () => {
  it("prints exactly what Luxon's 'yyyy-MM-dd HH:mm:ss ZZZZ' prints, across DST and historical offsets", () => {
    const zones = [
      'Europe/Berlin',
      'Europe/London',
      'Europe/Dublin',
      'America/New_York',
      'America/Sao_Paulo',
      'Asia/Kolkata',
      'Australia/Lord_Howe',
      'Pacific/Chatham',
      'Africa/Casablanca',
      'Etc/GMT-3',
      'UTC',
      'utc',
      'UTC+1',
    ];
    let differing = 0;
    let checked = 0;
    for (const zone of zones) {
      // 600 instants from 1965 to 2040, a little over 45 days apart, so that every season of every year is hit.
      for (let i = 0; i < 600; i++) {
        const at = new Date(Date.UTC(1965, 0, 1) + i * 3_946_200_000);
        const expected = DateTime.fromJSDate(at, { zone }).toFormat('yyyy-MM-dd HH:mm:ss ZZZZ');
        if (localTime(at, zone) !== expected) differing += 1;
        checked += 1;
      }
    }
    expect(checked).toBe(13 * 600);
    expect(differing).toBe(0);
    expect(localTime(new Date('2026-07-01T10:00:00Z'), 'Europe/Berlin')).toBe('2026-07-01 12:00:00 GMT+2');
  });
});

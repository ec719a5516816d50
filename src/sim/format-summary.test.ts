import { describe, expect, it } from 'vitest';
import { formatSummary } from './format-summary.ts';
import { exitStatusOf } from './simulate-command.ts';
import { formatKwh, type SimulationSummary } from './summary.ts';

const summary: SimulationSummary = {
  url: 'ws://127.0.0.1:9000/ocpp',
  seed: 7,
  speedFactor: 3600,
  stations: { planned: 10, connected: 10, failed: 0 },
  boots: { accepted: 10, pending: 0, rejected: 1 },
  sessions: { planned: 30, started: 29, completed: 28, refused: 2, failed: 0, remote: 0 },
  energyWh: 1_218_540,
  energyKwh: '1218.540',
  messages: { sent: 7969, retries: 3, dropped: 1, received: 2 },
  callErrors: { InternalError: 1 },
  transport: { timeouts: 0, connectionFailures: 2, disconnects: 1 },
  ackLatencyMs: { count: 7969, p50: 0.4, p95: 1, p99: 4.9, max: 22.6 },
  wallTimeMs: 20_912,
  simulatedFrom: '2024-05-01T01:15:33.000Z',
  simulatedTo: '2024-05-01T22:08:34.186Z',
  sessionRecords: [],
};

describe('the summary table', () => {
  it('prints every figure on its own line', () => {
    expect(formatSummary(summary)).toBe(
      [
        'Simulation summary',
        '  CSMS         ws://127.0.0.1:9000/ocpp',
        '  seed         7 (speed ×3600)',
        '  stations     10 of 10 connected, 0 failed',
        '  boots        10 accepted, 0 pending, 1 rejected',
        '  sessions     30 planned, 29 started: 28 completed, 2 refused, 0 failed',
        '  energy       1218.540 kWh',
        '  messages     7969 sent, 3 retries, 1 dropped, 2 received',
        '  call errors  InternalError 1',
        '  connection   0 timeouts, 2 calls lost, 1 disconnects',
        '  ack latency  p50 0.4 ms, p95 1.0 ms, p99 4.9 ms, max 22.6 ms (7969 calls)',
        '  simulated    2024-05-01T01:15:33.000Z to 2024-05-01T22:08:34.186Z',
        '  wall time    20.9 s',
        '',
      ].join('\n'),
    );
  });

  it('formats kWh exactly from whole Wh', () => {
    expect([0, 5, 1000, 1_218_540, 999_999].map(formatKwh)).toEqual(['0.000', '0.005', '1.000', '1218.540', '999.999']);
  });

  it('exits 1 when a session failed or a station never connected', () => {
    expect(exitStatusOf(summary)).toBe(0);
    expect(exitStatusOf({ ...summary, sessions: { ...summary.sessions, failed: 1 } })).toBe(1);
    expect(exitStatusOf({ ...summary, stations: { ...summary.stations, failed: 1 } })).toBe(1);
  });
});

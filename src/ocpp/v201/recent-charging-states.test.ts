import { describe, expect, it } from 'vitest';
import { RecentChargingStates } from './recent-charging-states.ts';

describe('RecentChargingStates', () => {
  it('calls a state a repeat only after the seqNo just before it carried the same state on the same transaction', () => {
    const states = new RecentChargingStates();
    expect(states.repeats('CP-1', 'TX-1', 1, 'Charging')).toBe(false);
    states.applied('CP-1', 'TX-1', 1, 'Charging');
    expect(states.repeats('CP-1', 'TX-1', 2, 'Charging')).toBe(true);
    expect(states.repeats('CP-1', 'TX-1', 2, 'SuspendedEV')).toBe(false);
    expect(states.repeats('CP-1', 'TX-1', 3, 'Charging')).toBe(false);
    expect(states.repeats('CP-1', 'TX-1', 1, 'Charging')).toBe(false);
    expect(states.repeats('CP-1', 'TX-2', 2, 'Charging')).toBe(false);
    expect(states.repeats('CP-2', 'TX-1', 2, 'Charging')).toBe(false);
    states.forget('CP-1', 'TX-1');
    expect(states.repeats('CP-1', 'TX-1', 2, 'Charging')).toBe(false);
    expect(states.size).toBe(0);
  });
});

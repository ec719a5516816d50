/**
 * Fault injection of the sandbox provider, for tests and chaos drills: latency, timeouts before the request is
 * processed, 5xx errors, responses lost after the money moved, and dropped, duplicated or reordered webhooks.
 * Decisions come from a seeded generator so that a failing run can be repeated.
 */
import { createPrng } from '../../sim/prng.ts';

export type SandboxFaults = {
  /** Added to every call, in milliseconds. */
  readonly latencyMs: number;
  /** Share (0..1) of calls that time out before the sandbox processes them. */
  readonly timeoutRate: number;
  /** Share of calls answered with a 5xx before processing. */
  readonly errorRate: number;
  /** Share of calls that are processed (money moves) but whose response is lost: the caller sees a timeout. */
  readonly lostResponseRate: number;
  readonly webhookDropRate: number;
  readonly webhookDuplicateRate: number;
  /** Deliver each batch of webhooks in reverse order. */
  readonly webhookReorder: boolean;
  readonly seed: number;
};

export const NO_FAULTS: SandboxFaults = {
  latencyMs: 0,
  timeoutRate: 0,
  errorRate: 0,
  lostResponseRate: 0,
  webhookDropRate: 0,
  webhookDuplicateRate: 0,
  webhookReorder: false,
  seed: 1,
};

export type FaultDecision = 'none' | 'timeout' | 'error' | 'lost_response';

export type FaultDice = {
  call(): FaultDecision;
  webhook(): 'deliver' | 'drop' | 'duplicate';
};

export function createFaultDice(faults: SandboxFaults): FaultDice {
  const prng = createPrng(faults.seed);
  const roll = () => prng.nextUint32() / 2 ** 32;
  return {
    call() {
      const r = roll();
      if (r < faults.timeoutRate) return 'timeout';
      if (r < faults.timeoutRate + faults.errorRate) return 'error';
      if (r < faults.timeoutRate + faults.errorRate + faults.lostResponseRate) return 'lost_response';
      return 'none';
    },
    webhook() {
      const r = roll();
      if (r < faults.webhookDropRate) return 'drop';
      if (r < faults.webhookDropRate + faults.webhookDuplicateRate) return 'duplicate';
      return 'deliver';
    },
  };
}

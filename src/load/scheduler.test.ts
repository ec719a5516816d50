import { describe, expect, it } from 'vitest';
import { createScheduler } from './scheduler.ts';

describe('createScheduler', () => {
  it('wakes sleepers in due order with one timer, and every sleeper at once on stop', async () => {
    const scheduler = createScheduler({ tickMs: 5 });
    const woken: string[] = [];
    const late = scheduler.sleep(60_000).then(() => woken.push('late'));
    const second = scheduler.sleep(40).then(() => woken.push('second'));
    const first = scheduler.sleep(10).then(() => woken.push('first'));
    expect(scheduler.pending).toBe(3);
    await Promise.all([first, second]);
    expect(woken).toEqual(['first', 'second']);
    expect(scheduler.pending).toBe(1);
    scheduler.stop();
    await late;
    expect(woken).toEqual(['first', 'second', 'late']);
    expect(scheduler.pending).toBe(0);
    await scheduler.sleep(60_000);
  });

  it('never wakes a sleeper early', async () => {
    const scheduler = createScheduler({ tickMs: 5 });
    const before = performance.now();
    await scheduler.sleep(30);
    expect(performance.now() - before).toBeGreaterThanOrEqual(29);
    scheduler.stop();
  });
});

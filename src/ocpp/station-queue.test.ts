import { describe, expect, it } from 'vitest';
import { StationQueue, StationQueueFull } from './station-queue.ts';

describe('StationQueue', () => {
  it('runs tasks one at a time in arrival order, even when one fails', async () => {
    const queue = new StationQueue(10);
    const order: string[] = [];
    const task =
      (name: string, ms: number, fail = false) =>
      async () => {
        order.push(`start ${name}`);
        await new Promise((resolve) => setTimeout(resolve, ms));
        order.push(`end ${name}`);
        if (fail) throw new Error(name);
        return name;
      };
    const results = await Promise.allSettled([
      queue.run(task('a', 20)),
      queue.run(task('b', 1, true)),
      queue.run(task('c', 1)),
    ]);
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('refuses more waiting tasks than its limit', async () => {
    const queue = new StationQueue(1);
    const running = queue.run(() => new Promise((resolve) => setTimeout(resolve, 10)));
    await expect(queue.run(async () => 1)).rejects.toBeInstanceOf(StationQueueFull);
    await running;
    await expect(queue.run(async () => 2)).resolves.toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { BatchWriter, BatchWriterOverloaded } from './batch-writer.ts';

describe('BatchWriter', () => {
  it('writes what queued during a write as the next batch, resolving each item when its batch is committed', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const writer = new BatchWriter<number>(
      async (items) => {
        batches.push(items);
        if (batches.length === 1) await gate;
      },
      { maxBatchItems: 3, maxQueuedItems: 10 },
    );
    const first = writer.enqueue(1);
    await new Promise((resolve) => setImmediate(resolve));
    const rest = [2, 3, 4, 5].map((n) => writer.enqueue(n));
    release();
    await Promise.all([first, ...rest]);
    expect(batches).toEqual([[1], [2, 3, 4], [5]]);
  });

  it('fails only the item that cannot be written, retrying the rest of its batch one by one', async () => {
    const written: number[] = [];
    const writer = new BatchWriter<number>(
      async (items) => {
        if (items.includes(13)) throw new Error('bad item');
        written.push(...items);
      },
      { maxBatchItems: 10, maxQueuedItems: 10 },
    );
    const results = await Promise.allSettled([11, 12, 13, 14].map((n) => writer.enqueue(n)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect(written).toEqual([11, 12, 14]);
  });

  it('refuses items beyond its queue limit and flushes on demand', async () => {
    const writer = new BatchWriter<number>(async () => {}, { maxBatchItems: 1, maxQueuedItems: 2 });
    const accepted = [writer.enqueue(1), writer.enqueue(2)];
    await expect(writer.enqueue(3)).rejects.toBeInstanceOf(BatchWriterOverloaded);
    await writer.flush();
    await Promise.all(accepted);
    expect(writer.queued).toBe(0);
  });

  it('answers each item with its own result, in a batch and when retried one by one', async () => {
    const batches: number[][] = [];
    const writer = new BatchWriter<number, string>(
      async (items) => {
        batches.push(items);
        if (items.includes(13) && items.length > 1) throw new Error('bad batch');
        if (items.includes(13)) throw new Error('bad item');
        return items.map((n) => `done ${n}`);
      },
      { maxBatchItems: 10, maxQueuedItems: 10 },
    );
    expect(await Promise.all([1, 2, 3].map((n) => writer.enqueue(n)))).toEqual(['done 1', 'done 2', 'done 3']);
    const settled = await Promise.allSettled([11, 13, 14].map((n) => writer.enqueue(n)));
    expect(settled).toEqual([
      { status: 'fulfilled', value: 'done 11' },
      { status: 'rejected', reason: new Error('bad item') },
      { status: 'fulfilled', value: 'done 14' },
    ]);
    expect(batches).toEqual([[1, 2, 3], [11, 13, 14], [11], [13], [14]]);
  });
});

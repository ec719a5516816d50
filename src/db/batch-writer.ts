/**
 * Group commit for high-rate appends (meter samples, the OCPP message log). Items queue while a write is in
 * flight; the next write takes everything that queued. At low load an item is written at once (no timer delay);
 * under load one transaction carries hundreds of items, which is what lets one node absorb thousands of messages
 * per second. Callers that must not reply before their item is durable await the promise `enqueue` returns.
 * A write may also answer each item (`R`, in the items' order: an insert's "created or already there").
 */
import { assert } from '../shared/assert.ts';

export type BatchWriterOptions = {
  /** Most items written in one batch; the rest waits for the next one. */
  readonly maxBatchItems: number;
  /** Most items waiting; beyond this `enqueue` rejects so that a stalled database cannot exhaust memory. */
  readonly maxQueuedItems: number;
};

export class BatchWriterOverloaded extends Error {
  override name = 'BatchWriterOverloaded';
}

type Pending<T, R> = { item: T; resolve: (result: R) => void; reject: (error: unknown) => void };

export class BatchWriter<T, R = void> {
  /** Resolves to nothing, or (for R other than void) to one result per item: checked at run time. */
  readonly #write: (items: T[]) => Promise<unknown>;
  readonly #options: BatchWriterOptions;
  #queue: Pending<T, R>[] = [];
  #running = false;
  #idleWaiters: (() => void)[] = [];

  /** `write` returns nothing, or one result per item in the items' order. */
  constructor(write: (items: T[]) => Promise<unknown>, options: BatchWriterOptions) {
    assert(options.maxBatchItems > 0 && options.maxQueuedItems >= options.maxBatchItems, 'invalid batch limits');
    this.#write = write;
    this.#options = options;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Queues one item; resolves (with the item's result, if the write gives results) when the batch that holds it is
   * committed, rejects when that batch failed.
   */
  enqueue(item: T): Promise<R> {
    if (this.#queue.length >= this.#options.maxQueuedItems) {
      return Promise.reject(new BatchWriterOverloaded(`write queue full (${this.#options.maxQueuedItems} items)`));
    }
    return new Promise<R>((resolve, reject) => {
      this.#queue.push({ item, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        // Let the current tick add its items too, so that a burst becomes one batch.
        setImmediate(() => void this.#drain());
      }
    });
  }

  /** Resolves once everything queued so far is written (or failed). */
  async flush(): Promise<void> {
    if (!this.#running && this.#queue.length === 0) return;
    await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#options.maxBatchItems);
      try {
        const results = answers(await this.#write(batch.map((p) => p.item)), batch.length);
        for (const [i, p] of batch.entries()) p.resolve(results?.[i] as R);
      } catch (error) {
        if (batch.length === 1) {
          batch[0]!.reject(error);
          continue;
        }
        // One bad item must not fail everyone else's write: retry the batch item by item.
        for (const p of batch) {
          try {
            p.resolve(answers(await this.#write([p.item]), 1)?.[0] as R);
          } catch (itemError) {
            p.reject(itemError);
          }
        }
      }
    }
    this.#running = false;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** A write's answers: none, or exactly one per item. */
function answers(results: unknown, items: number): readonly unknown[] | undefined {
  if (results === undefined) return undefined;
  assert(Array.isArray(results) && results.length === items, 'a batch write must answer every item or none');
  return results;
}

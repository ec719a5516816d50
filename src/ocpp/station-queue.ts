/**
 * Runs one station's requests one at a time, in arrival order. OCPP allows a station one outstanding request, but
 * a misbehaving one may send several; processing them in order keeps its session events consistent.
 */
export class StationQueueFull extends Error {
  override name = 'StationQueueFull';
}

export class StationQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #length = 0;

  constructor(private readonly maxQueued: number) {}

  run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#length >= this.maxQueued) {
      return Promise.reject(new StationQueueFull(`more than ${this.maxQueued} requests waiting for this station`));
    }
    this.#length++;
    const result = this.#tail.then(task, task);
    this.#tail = result.then(
      () => {},
      () => {},
    );
    return result.finally(() => {
      this.#length--;
    });
  }
}

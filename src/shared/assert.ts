/** Thrown when an invariant the code relies on does not hold: a bug, never an expected failure. */
export class AssertionFailed extends Error {
  override name = 'AssertionFailed';
}

/** Crash loudly when an invariant is broken (an unbalanced transfer, a negative amount where none can be). */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionFailed(message);
}

/** Exhaustiveness check for closed unions: the compiler proves this is unreachable. */
export function assertNever(value: never, what = 'value'): never {
  throw new AssertionFailed(`unexpected ${what}: ${JSON.stringify(value)}`);
}

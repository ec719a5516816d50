/**
 * Expected failures are values, not exceptions: a function that can fail for a reason its caller must handle returns
 * a Result whose error carries a closed `code`. Broken invariants are assertions instead (see assert.ts).
 */
export type Ok<T> = { readonly ok: true; readonly value: T };
export type Err<E> = { readonly ok: false; readonly error: E };
export type Result<T, E> = Ok<T> | Err<E>;

export function ok<T>(value: T): Ok<T> {
  return { ok: true, value };
}

export function err<E>(error: E): Err<E> {
  return { ok: false, error };
}

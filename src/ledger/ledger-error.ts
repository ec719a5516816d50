/** The closed set of expected ledger failures (callers handle these); broken invariants are assertions instead. */
export type LedgerError =
  | { readonly code: 'IdempotencyKeyReused'; readonly message: string; readonly transferId: string }
  | { readonly code: 'TransferNotFound'; readonly message: string }
  | { readonly code: 'NotAHold'; readonly message: string }
  | { readonly code: 'HoldAlreadyResolved'; readonly message: string; readonly resolvedBy: string }
  | { readonly code: 'AmountExceedsHold'; readonly message: string }
  | { readonly code: 'AlreadyReversed'; readonly message: string; readonly reversedBy: string }
  | { readonly code: 'NotReversible'; readonly message: string };

export type LedgerErrorCode = LedgerError['code'];

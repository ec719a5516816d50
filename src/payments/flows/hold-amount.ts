/** The hold placed at a session's start: the token's own amount or the default, never above the cap. Pure. */
export function holdAmountMinor(tokenHoldMinor: bigint | null, defaultMinor: bigint, capMinor: bigint): bigint {
  const wanted = tokenHoldMinor ?? defaultMinor;
  return wanted > capMinor ? capMinor : wanted;
}

/**
 * Constant-time string equality for MAC tags.
 *
 * @internal
 */

/**
 * Whether `a` and `b` are the same string, in time that depends only on their lengths.
 *
 * Tags are compared as the base64url strings `digest('base64url')` returns: every UTF-16 code unit
 * of both is read in full and XOR-accumulated with no early exit, so where the first difference
 * lies never shows in the timing, and only the exact expected string passes (a character that
 * merely shares the low byte of the right one, such as U+0141 for "A", is a difference: a latin1
 * comparison would miss it). The lengths are public (a tag's length is fixed by its algorithm).
 *
 * The same loop as audited JavaScript cryptography uses (`equalBytes` in @noble/hashes,
 * `crypto_verify_n` in TweetNaCl). `crypto.timingSafeEqual` would need both strings copied into
 * buffers first, which costs more than the comparison itself (docs/performance.md).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const length = a.length
  if (b.length !== length) return false
  let difference = 0
  // Stryker disable next-line EqualityOperator: equivalent, one step past the end XORs NaN with NaN, which is 0 (test/mutation-equivalents.md)
  for (let i = 0; i < length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return difference === 0
}

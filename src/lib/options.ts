/**
 * Checks shared by every factory: strict options objects (an unknown key is a TypeError that names
 * it, and names the Frasco equivalent of another library's option), lifetimes in seconds, clocks.
 *
 * @internal
 */

/** What to write instead of an unknown key, by key. Looked up only once a key is unknown. */
export type Hints = Readonly<Record<string, string>>

/** Names users bring to any token factory from other libraries and from 0.1. */
export const TOKEN_HINTS: Hints = {
  secret: 'did you mean `secrets`? (one secret or a list, newest first)',
  keys: 'did you mean `secrets`? (newest first)',
  password: "did you mean `secrets`? (iron-session's password; Frasco's secrets need at least 32 bytes)",
  key: 'did you mean `secrets`?',
  salt: 'use `purpose` (what the tokens are for)',
  now: 'give the clock as `clock: () => milliseconds` (like Date.now); `now` is the instant of one sign or verify call',
  compressThreshold: 'use `compress: { threshold }` (bytes), or `compress: false`',
  expiresIn: 'give `expiresIn` (seconds) to sign(value, { expiresIn }), not to the factory',
  maxAge: 'give `maxAge` (seconds) to verify(token, { maxAge }), not to the factory',
  ttl: 'give `expiresIn` (seconds) to sign(value, { expiresIn })',
}

/** Per-call option names that belong to the other call. */
export const SIGN_HINTS: Hints = {
  maxAge: 'sign takes `expiresIn` (seconds until the token expires); `maxAge` is the age limit of verify',
  ttl: 'use `expiresIn` (seconds)',
}
export const VERIFY_HINTS: Hints = {
  expiresIn: 'verify takes `maxAge` (the age limit, seconds); `expiresIn` belongs to sign',
  clockTolerance: 'give `clockTolerance` to the factory',
}
export const ADAPTER_HINTS: Hints = {
  proxy: 'did you mean `trustProxy`?',
  trustproxy: 'did you mean `trustProxy`?',
  'trust proxy': 'did you mean `trustProxy`?',
}

/**
 * Keys users bring to `createSessions` from express-session, cookie-session, iron-session,
 * @fastify/secure-session, Flask and Frasco 0.1, with what to write instead.
 */
export const SESSION_HINTS: Hints = {
  secret: 'did you mean `secrets`? (one secret or a list, newest first)',
  keys: "did you mean `secrets`? (cookie-session's keys; Frasco also lists them newest first)",
  password: "did you mean `secrets`? (iron-session's password; Frasco's secrets need at least 32 bytes)",
  key: "did you mean `secrets`? (@fastify/secure-session's key; give the secret's text or bytes)",
  secretKey: "did you mean `secrets`? (Flask's SECRET_KEY, then its SECRET_KEY_FALLBACKS)",
  cookieName: 'use `cookie: { name }`',
  name: 'use `cookie: { name }`',
  cookieOptions: 'use `cookie` (name, path, domain, secure, httpOnly, sameSite, partitioned, priority)',
  path: 'cookie attributes go in `cookie: { path }`',
  domain: 'cookie attributes go in `cookie: { domain }`',
  secure: 'cookie attributes go in `cookie: { secure }`',
  httpOnly: 'cookie attributes go in `cookie: { httpOnly }`',
  sameSite: 'cookie attributes go in `cookie: { sameSite }`',
  maxAge: 'a session lasts `lifetime` seconds (seconds, not milliseconds); add `persistent: true` for a cookie that outlives the browser',
  ttl: 'use `lifetime` (seconds)',
  expires: 'use `lifetime` (seconds); the cookie gets a matching Max-Age when the session is persistent',
  browserSessionLifetime: 'use `lifetime` (seconds) with `persistent: false`',
  compressThreshold: 'use `compress: { threshold }` (bytes), or `compress: false`',
  now: 'give the clock as `clock: () => milliseconds` (like Date.now); `now` is the instant of one call',
  format: 'pass a format object: `createFlaskFormat()` from frasco/flask for Flask cookies',
  resave: 'Frasco has no `resave`: it writes the cookie only when the session changed, was rolled or refreshed (see `rolling` and `idleTimeout`)',
  saveUninitialized: 'Frasco has no `saveUninitialized`: an empty session never sets a cookie',
  genid: 'Frasco generates session ids itself (at least 128 random bits, with `store`)',
  proxy: 'use the adapter option `trustProxy`',
  trustProxy: 'give `trustProxy` to the adapter (sessionMiddleware, withSessions, commitSession), not to createSessions',
  signed: 'Frasco cookies are always signed; add `encrypt: true` to hide their content as well',
  unset: 'Frasco has no `unset`: call session.destroy() or set req.session = null',
  salt: 'use `purpose` (what the tokens are for)',
  expiresIn: 'give `expiresIn` to sign(value, { expiresIn }), not to the factory',
}

/**
 * Throws a TypeError for the first key of `options` not in `known`: `option <where><key> is
 * unknown: …`, with the equivalent when the name is another library's. Own enumerable keys only;
 * a key set to `undefined` counts (a typo is a typo whatever its value).
 */
export function assertKnownKeys(options: object, known: ReadonlySet<string>, where = '', hints: Hints = {}): void {
  for (const key in options) {
    if (!Object.hasOwn(options, key) || known.has(key)) continue
    const hint = Object.hasOwn(hints, key) ? hints[key] : undefined
    const close = hint === undefined ? nearest(key, known) : undefined
    const fix = hint ?? (close === undefined ? `the options are ${[...known].map((k) => `\`${k}\``).join(', ')}` : `did you mean \`${close}\`?`)
    throw new TypeError(`option ${where}${key} is unknown: ${fix}`)
  }
}

/**
 * `options` as an object (undefined gives `{}`), checked with {@link assertKnownKeys}; `caller`
 * names the function in the message for a non-object.
 */
export function strictOptions<T extends object>(options: T | undefined, known: ReadonlySet<string>, caller: string, hints: Hints = {}): Partial<T> {
  if (options === undefined) return {}
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options are invalid: ${caller} takes an options object`)
  }
  assertKnownKeys(options, known, '', hints)
  return options
}

/**
 * A factory's required options object, checked with {@link assertKnownKeys}: anything but an
 * object is a TypeError showing the call with `example` (e.g. `{ secrets }`).
 */
export function requiredOptions<T extends object>(options: T, known: ReadonlySet<string>, factory: string, example: string, hints: Hints = {}): T {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TypeError(`options are invalid: ${factory} needs an options object, e.g. ${factory}(${example})`)
  }
  assertKnownKeys(options, known, '', hints)
  return options
}

/** The known key closest to `key` (case-insensitively equal, or one edit away), if any. */
function nearest(key: string, known: ReadonlySet<string>): string | undefined {
  const lower = key.toLowerCase()
  for (const candidate of known) if (candidate.toLowerCase() === lower) return candidate
  for (const candidate of known) if (withinOneEdit(lower, candidate.toLowerCase())) return candidate
  return undefined
}

function withinOneEdit(a: string, b: string): boolean {
  if (Math.abs(a.length - b.length) > 1) return false
  let i = 0
  while (i < a.length && i < b.length && a[i] === b[i]) i++
  if (a.length === b.length) return a.slice(i + 1) === b.slice(i + 1)
  return a.length > b.length ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1)
}

/**
 * The longest lifetime any option takes, in seconds: 400 days, the cap RFC 6265bis §5.6.1 lets
 * browsers put on a cookie's lifetime. Anything longer is far more likely milliseconds.
 */
export const MAX_LIFETIME = 400 * 24 * 60 * 60

/**
 * Asserts a lifetime option in seconds: a finite number from 1 (0 too with `allowZero`) to
 * {@link MAX_LIFETIME}. Returns it in whole seconds (floored).
 */
export function lifetimeOption(value: unknown, where: string, allowZero = false): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < (allowZero ? 0 : 1)) {
    throw new TypeError(`option ${where} is invalid: give a number of seconds, ${allowZero ? '0' : '1'} or more`)
  }
  if (value > MAX_LIFETIME) {
    throw new TypeError(
      `option ${where} is invalid: ${value} is more than 400 days; lifetimes are in seconds, not milliseconds (at most ${MAX_LIFETIME})`,
    )
  }
  return Math.floor(value)
}

/** Asserts a boolean option (undefined allowed) and returns it or `fallback`. */
export function booleanOption(value: unknown, where: string, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new TypeError(`option ${where} is invalid: give true or false`)
  return value
}

/** A clock: milliseconds since the epoch, like `Date.now`. */
export type Clock = () => number

/** Asserts the `clock` option and returns it, or `Date.now`. */
export function clockOption(value: unknown): Clock {
  if (value === undefined) return Date.now
  if (typeof value !== 'function') throw new TypeError('option clock is invalid: give a function returning milliseconds since the epoch, like Date.now')
  return value as Clock
}

/** The compression option every format takes: `true` (the format's default threshold), `false`, or `{ threshold }`. */
export type CompressOption = boolean | { threshold: number }

const THRESHOLD_KEYS = new Set(['threshold'])

/** Resolves a {@link CompressOption} to a byte threshold, `Infinity` for never. */
export function compressOption(value: unknown, defaultThreshold: number): number {
  if (value === undefined || value === true) return defaultThreshold
  if (value === false) return Number.POSITIVE_INFINITY
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    assertKnownKeys(value, THRESHOLD_KEYS, 'compress.')
    const threshold = (value as { threshold?: unknown }).threshold
    if (Number.isSafeInteger(threshold) && (threshold as number) >= 0) return threshold as number
  }
  throw new TypeError('option compress is invalid: give true, false or { threshold: bytes } with a whole, non-negative number of bytes')
}

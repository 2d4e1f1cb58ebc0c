/**
 * Helpers for the store-backed session tests (test/stores/sessions-*.test.ts, and the frameworks'
 * store tests): a manual clock shared by the manager, the store and the cookie jar; deferreds and
 * a barrier that hold concurrent requests where a race needs them, and a check that a response is
 * still held back; and a reader that opens a session cookie the way the manager signed it, to
 * check what it carries.
 */
import { randomBytes } from 'node:crypto'
import { SessionError } from '../../src/errors.js'
import { FRASCO_FORMAT } from '../../src/formats/frasco.js'
import { parse } from '../../src/serializer.js'
import type { CookieJar } from './server.js'

/** One fresh secret, as `npx frasco keygen` prints it. */
export function testSecrets(): string[] {
  return [randomBytes(32).toString('base64url')]
}

/** A clock in milliseconds that moves only when told to. */
export interface ManualClock {
  readonly now: () => number
  advance(seconds: number): void
}

export function manualClock(start = Date.parse('2030-01-01T00:00:00Z')): ManualClock {
  let current = start
  return {
    now: () => current,
    advance: (seconds) => {
      current += seconds * 1000
    },
  }
}

export interface Deferred<T = void> {
  readonly promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((yes, no) => {
    resolve = yes
    reject = no
  })
  return { promise, resolve, reject }
}

/** Whether `promise` is still pending after `ms` (a response held back by the store, say). */
export async function pendingAfter(promise: Promise<unknown>, ms: number): Promise<boolean> {
  const timeout = new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms))
  return (await Promise.race([promise.then(() => 'settled' as const), timeout])) === 'pending'
}

/**
 * Holds every party until `count` have arrived: each `arrive()` resolves once the last one has.
 * `all` resolves at the same moment (for the test to know both requests have loaded their session).
 */
export function barrier(count: number): { arrive(): Promise<void>; readonly all: Promise<void> } {
  const gate = deferred()
  let arrived = 0
  return {
    arrive() {
      arrived++
      if (arrived === count) gate.resolve()
      return gate.promise
    },
    all: gate.promise,
  }
}

/**
 * Signs and opens the cookies of a store-backed manager with these secrets and cookie name, as it
 * does: the payload `{ i }` (store mode) or `{ i, d }` (`revocation`), under the purpose
 * `session:<name>:store` or `session:<name>:revocation`, which keeps them apart from a cookie
 * session's cookies.
 */
export function storeCookieCodec(
  secrets: string[],
  options: { mode?: 'store' | 'revocation'; encrypt?: boolean; clock?: () => number; name?: string } = {},
) {
  const codec = FRASCO_FORMAT.createCodec({
    secrets,
    purpose: `session:${options.name ?? 'session'}:${options.mode ?? 'store'}`,
    encrypt: options.encrypt,
    compress: undefined,
    clockTolerance: undefined,
    maxTokenLength: 3 * 4096,
  })
  const now = (): number => Math.floor((options.clock ?? Date.now)() / 1000)
  return {
    /** A cookie value for `payload`, valid for an hour from the clock's now. */
    sign(payload: object): string {
      return codec.encode(payload, now(), now() + 3600, false)
    },
    verify(value: string): { ok: true; value: Record<string, unknown> } | { ok: false } {
      const decoded = codec.decode(value, now(), undefined)
      return decoded instanceof SessionError ? { ok: false } : { ok: true, value: decoded.value as Record<string, unknown> }
    },
  }
}

/**
 * Opens a session cookie's signed (or encrypted) payload, as a store-backed manager with the same
 * secrets and cookie name wrote it: `{ i }` in store mode, `{ i, d }` with `revocation`.
 */
export function cookieReader(secrets: string[], options: { encrypt?: boolean; clock?: () => number; name?: string } = {}) {
  const codecs = [storeCookieCodec(secrets, { ...options, mode: 'store' }), storeCookieCodec(secrets, { ...options, mode: 'revocation' })]
  const name = options.name ?? 'session'
  const payload = (value: string | undefined): Record<string, unknown> | undefined => {
    if (value === undefined) return undefined
    for (const codec of codecs) {
      const result = codec.verify(value)
      if (result.ok) return result.value
    }
    return undefined
  }
  return {
    payload,
    /** The session id the jar's cookie carries, or undefined (no cookie, or not a valid one). */
    idOf(jar: CookieJar): string | undefined {
      const id = payload(jar.get(name))?.['i']
      return typeof id === 'string' ? id : undefined
    },
  }
}

/** A stored session's fields decoded: what the session held when it was saved. */
export function decodeStored(fields: Record<string, string> | undefined): Record<string, unknown> | undefined {
  if (fields === undefined) return undefined
  const data: Record<string, unknown> = {}
  for (const name of Object.keys(fields).sort()) data[name] = parse(fields[name] as string)
  return data
}

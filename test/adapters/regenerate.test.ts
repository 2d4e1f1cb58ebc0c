/**
 * `req.session.regenerate(cb)`, express-session's form, on the session frasco/node hands out: as
 * with express-session, `req.session` is a new, empty session when the callback runs, and the old
 * object keeps its data, readable (Passport's `keepSessionInfo` merges it into the new one) but no
 * longer writable (a write would be lost). Without a callback, and on a session obtained any other
 * way (`sessions.read`, `readSession`, frasco/fetch), the session is regenerated in place. Steps
 * run inside real servers on 127.0.0.1; the cookie they leave is verified with the same manager.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage } from 'node:http'
import { describe, it, expect } from 'vitest'
import { commitSession as fetchCommit, readSession as fetchRead, withSessions as withFetchSessions } from '../../src/adapters/fetch.js'
import { commitSession, readSession, sessionMiddleware, withSessions, type SessionRequest } from '../../src/adapters/node.js'
import { ChangedAfterCommit } from '../../src/errors.js'
import { getSessionState, type Session } from '../../src/session.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { startStepServer, type AppKind, type Step } from '../helpers/steps.js'
import { CookieJar, isDeletion, parseSetCookie, startServer, useTestServers, type SetCookie } from '../helpers/server.js'

useTestServers()

const secrets = [randomBytes(32).toString('base64url')]
const NOW = Date.UTC(2030, 0, 1)
const LIFETIME = 3600

interface Outcome {
  result: unknown
  error: string | undefined
  setCookies: SetCookie[]
}

interface App {
  sessions: Sessions
  jar: CookieJar
  /** What onError received, in order. */
  errors: Array<{ error: unknown; url: string | undefined }>
  /** Moves the shared clock of the server and the jar. */
  advance(seconds: number): void
  run(step: Step): Promise<Outcome>
  /** The verified session cookie now in the jar (undefined when there is none). */
  stored(): { value: Record<string, unknown>; expiresAt: number | undefined; persistent: boolean } | undefined
}

async function startApp(kind: AppKind): Promise<App> {
  let time = NOW
  const now = (): number => time
  const sessions = createSessions({ secrets, clock: now, lifetime: LIFETIME })
  const errors: App['errors'] = []
  const onError = (error: unknown, req: IncomingMessage): void => {
    errors.push({ error, url: req.url })
  }
  const { server, setStep } = await startStepServer(kind, sessions, onError)
  const jar = new CookieJar(now)
  return {
    sessions,
    jar,
    errors,
    advance: (seconds) => void (time += seconds * 1000),
    async run(next) {
      setStep(next)
      const response = await jar.fetch(server.url('/'))
      const body = JSON.parse(await response.text()) as { result?: unknown; error?: string }
      return { result: body.result, error: body.error, setCookies: response.headers.getSetCookie().map(parseSetCookie) }
    },
    stored() {
      const cookie = jar.get('session')
      if (cookie === undefined) return undefined
      const verified = sessions.verify(cookie)
      if (!verified.ok) throw new Error(`the jar holds a session cookie that does not verify: ${verified.error.code}`)
      return { value: verified.value as Record<string, unknown>, expiresAt: verified.expiresAt?.getTime(), persistent: verified.persistent }
    },
  }
}

const DATA = { user: 'ada', cart: ['tea', 'milk'], returnTo: '/private' }

/** A cookie holding DATA, signed at the app's current time, in the app's jar. */
function seed(app: App, data: Record<string, unknown> = DATA, persistent?: boolean): void {
  app.jar.set('session', app.sessions.sign(data, persistent === undefined ? {} : { persistent }))
}

const READ_AGAIN = /read req\.session again/

/** Every way to write to a session; each must throw on the object regenerate() left behind. */
const WRITES: Array<[string, (old: Session) => unknown]> = [
  ['set', (old) => old.set('x', 1)],
  ['set(key, undefined)', (old) => old.set('user', undefined)],
  ['delete', (old) => old.delete('user')],
  ['delete of a missing key', (old) => old.delete('missing')],
  ['the delete operator', (old) => delete (old as Record<string, unknown>).user],
  ['pop', (old) => old.pop('user')],
  ['pop of a missing key', (old) => old.pop('missing', 'fallback')],
  ['clear', (old) => old.clear()],
  ['flash', (old) => old.flash('hello', 'info')],
  ['consumeFlashes', (old) => old.consumeFlashes()],
  ['consumeFlashes(category)', (old) => old.consumeFlashes('info')],
  ['persistent = (a new value)', (old) => (old.persistent = !old.persistent)],
  ['touch', (old) => old.touch()],
  ['regenerate', (old) => old.regenerate()],
  ['destroy', (old) => old.destroy()],
  ['save', (old) => old.save()],
  ['property assignment', (old) => ((old as Record<string, unknown>).user = 'eve')],
  ['property assignment of a new key', (old) => ((old as Record<string, unknown>).x = 1)],
  ['Object.assign', (old) => Object.assign(old, { x: 1 })],
  ['Object.defineProperty', (old) => Object.defineProperty(old, 'x', { value: 1, enumerable: true, configurable: true, writable: true })],
]

/** Every way the callback-taking writes can be called; none may call back once it threw. */
const CALLBACK_WRITES: Array<[string, (old: Session, callback: () => void) => unknown]> = [
  ['regenerate(cb)', (old, callback) => old.regenerate(callback)],
  ['destroy(cb)', (old, callback) => old.destroy(callback)],
  ['save(cb)', (old, callback) => old.save(callback)],
]

/** `session.regenerate(cb)` as a promise: resolves when the callback runs, with its arguments. */
function regenerated(session: Session): Promise<unknown[]> {
  return new Promise((resolve) => {
    session.regenerate((...args: unknown[]) => resolve(args))
  })
}

describe.each<AppKind>(['sessionMiddleware (Express)', 'withSessions'])('req.session.regenerate(cb) with %s', (kind) => {
  it('hands out a new, empty session on req.session; the old object still reads its data', async () => {
    const app = await startApp(kind)
    seed(app)
    const outcome = await app.run(async (req) => {
      const old = req.session
      const wasNew = old.isNew
      await regenerated(old)
      const next = req.session
      const forIn: string[] = []
      for (const key in old) forIn.push(key)
      return {
        wasNew,
        replaced: next !== old,
        stable: req.session === next, // the getter keeps handing out the same new object
        next: { keys: next.keys(), size: next.size, isNew: next.isNew, user: next.get('user'), json: next.toJSON() },
        old: {
          user: old.get('user'),
          has: old.has('cart'),
          property: (old as Record<string, unknown>).returnTo,
          keys: old.keys(),
          entries: old.entries(),
          size: old.size,
          forIn,
          spread: { ...old },
          json: JSON.parse(JSON.stringify(old)) as unknown,
          isNew: old.isNew,
        },
      }
    })
    expect(outcome.error).toBeUndefined()
    expect(outcome.result).toEqual({
      wasNew: false,
      replaced: true,
      stable: true,
      next: { keys: [], size: 0, isNew: true, json: {} },
      old: {
        user: 'ada',
        has: true,
        property: '/private',
        keys: ['user', 'cart', 'returnTo'],
        entries: [['user', 'ada'], ['cart', ['tea', 'milk']], ['returnTo', '/private']],
        size: 3,
        forIn: ['user', 'cart', 'returnTo'],
        spread: DATA,
        json: DATA,
        isNew: false,
      },
    })
    // Nothing written to the new session: the incoming cookie is deleted.
    expect(outcome.setCookies).toHaveLength(1)
    expect(isDeletion(outcome.setCookies[0] as SetCookie)).toBe(true)
    expect(app.jar.get('session')).toBeUndefined()
  })

  it('commits only what was written to the new session, with a new identity (a fresh expiry)', async () => {
    const app = await startApp(kind)
    seed(app) // expires at NOW + LIFETIME
    app.advance(600)
    const outcome = await app.run(async (req) => {
      const old = req.session
      await regenerated(old)
      req.session.set('user', old.get('user'))
      req.session.fresh = true
      // Passport's keepSessionInfo: utils-merge copies with for..in and assignment.
      for (const key in old) if (key === 'cart') (req.session as Record<string, unknown>)[key] = (old as Record<string, unknown>)[key]
      // What a store-backed manager reads to issue a new id and delete the old one.
      return { regenerated: getSessionState(req.session).regenerated, isNew: getSessionState(req.session).isNew }
    })
    expect(outcome.error).toBeUndefined()
    expect(outcome.result).toEqual({ regenerated: true, isNew: true })
    const stored = app.stored()
    expect(stored?.value).toEqual({ user: 'ada', fresh: true, cart: ['tea', 'milk'] })
    expect(Object.keys(stored?.value ?? {})).toEqual(['user', 'fresh', 'cart'])
    // A new identity: the absolute expiry restarts from now, where a plain write keeps the old one.
    expect(stored?.expiresAt).toBe(NOW + 600_000 + LIFETIME * 1000)

    app.advance(600)
    await app.run((req) => req.session.set('visits', 1))
    expect(app.stored()?.expiresAt).toBe(NOW + 600_000 + LIFETIME * 1000)
  })

  it('copies everything over with for..in and assignment, as Passport\'s keepSessionInfo does', async () => {
    const app = await startApp(kind)
    seed(app, { ...DATA, _flashes: [['info', 'kept']] })
    await app.run(async (req) => {
      const old = req.session
      await regenerated(old)
      for (const key in old) (req.session as Record<string, unknown>)[key] = (old as Record<string, unknown>)[key]
      req.session.set('passport', { user: '1' })
    })
    expect(app.stored()?.value).toEqual({ ...DATA, _flashes: [['info', 'kept']], passport: { user: '1' } })
  })

  it.each(WRITES)('a write to the old object throws a TypeError saying to read req.session again: %s', async (_, write) => {
    const app = await startApp(kind)
    seed(app, { ...DATA, _flashes: [['info', 'queued']] })
    const outcome = await app.run(async (req) => {
      const old = req.session
      await regenerated(old)
      req.session.set('fresh', 1)
      let thrown: unknown
      try {
        write(old)
      } catch (error) {
        thrown = error
      }
      return {
        isTypeError: thrown instanceof TypeError,
        message: thrown instanceof Error ? thrown.message : undefined,
        // The failed write changed neither object.
        old: old.toJSON(),
        next: req.session.toJSON(),
      }
    })
    expect(outcome.error).toBeUndefined()
    const result = outcome.result as { isTypeError: boolean; message: string; old: unknown; next: unknown }
    expect(result.isTypeError).toBe(true)
    expect(result.message).toMatch(READ_AGAIN)
    expect(result.message).toMatch(/regenerate/)
    expect(result.old).toEqual({ ...DATA, _flashes: [['info', 'queued']] })
    expect(result.next).toEqual({ fresh: 1 })
    expect(app.stored()?.value).toEqual({ fresh: 1 })
  })

  it("committing the old object throws a TypeError saying to commit req.session, and the app's response still carries the new session", async () => {
    const app = await startApp(kind)
    seed(app)
    const outcome = await app.run(async (req) => {
      const old = req.session
      await regenerated(old)
      req.session.set('fresh', 1)
      try {
        app.sessions.commit(old)
      } catch (error) {
        return { isTypeError: error instanceof TypeError, message: (error as Error).message }
      }
      return { isTypeError: false, message: 'committed' }
    })
    expect(outcome.result).toEqual({
      isTypeError: true,
      message: 'this session was regenerated and replaced: commit req.session (read it again after regenerate()), not the old object',
    })
    expect(app.stored()?.value).toEqual({ fresh: 1 })
  })

  it.each(CALLBACK_WRITES)('%s on the old object throws at once and never calls back', async (_, write) => {
    const app = await startApp(kind)
    seed(app)
    const outcome = await app.run(async (req) => {
      const old = req.session
      await regenerated(old)
      let calls = 0
      let message: string | undefined
      try {
        write(old, () => void calls++)
      } catch (error) {
        message = (error as Error).message
      }
      await new Promise((resolve) => setImmediate(resolve))
      return { calls, message }
    })
    expect(outcome.result).toEqual({ calls: 0, message: expect.stringMatching(READ_AGAIN) })
  })

  it('assigning the old object its current persistent value is a no-op, not an error', async () => {
    // Nothing would be lost, so nothing is refused; a different value throws (table above).
    const app = await startApp(kind)
    seed(app, DATA, true)
    const outcome = await app.run(async (req) => {
      const old = req.session
      await regenerated(old)
      old.persistent = true
      return old.persistent
    })
    expect(outcome.error).toBeUndefined()
    expect(outcome.result).toBe(true)
  })

  it('calls cb asynchronously, with no arguments, once req.session is the new session', async () => {
    const app = await startApp(kind)
    seed(app)
    const outcome = await app.run(async (req) => {
      const old = req.session
      const events: unknown[] = []
      const called = new Promise<void>((resolve) => {
        old.regenerate((...args: unknown[]) => {
          events.push({ callback: args.length, replaced: req.session !== old, empty: req.session.size === 0, isNew: req.session.isNew })
          req.session.set('user', 'grace')
          resolve()
        })
      })
      events.push('returned')
      await called
      return events
    })
    expect(outcome.result).toEqual(['returned', { callback: 0, replaced: true, empty: true, isNew: true }])
    expect(app.stored()?.value).toEqual({ user: 'grace' })
  })

  it('regenerates twice in a row, the second time on the new req.session; only the last session is committed', async () => {
    const app = await startApp(kind)
    seed(app)
    const outcome = await app.run(async (req) => {
      const first = req.session
      await regenerated(first)
      const second = req.session
      second.set('a', 1)
      await regenerated(second)
      const third = req.session
      third.set('b', 2)
      let secondWrite: string | undefined
      try {
        second.set('c', 3)
      } catch (error) {
        secondWrite = (error as Error).message
      }
      return {
        distinct: new Set([first, second, third]).size,
        firstUser: first.get('user'),
        secondData: second.toJSON(),
        thirdData: third.toJSON(),
        secondWrite,
      }
    })
    expect(outcome.result).toEqual({ distinct: 3, firstUser: 'ada', secondData: { a: 1 }, thirdData: { b: 2 }, secondWrite: expect.stringMatching(READ_AGAIN) })
    expect(app.stored()?.value).toEqual({ b: 2 })
  })

  it('regenerates a session that was never read before (the first read is the regenerate)', async () => {
    const app = await startApp(kind)
    seed(app)
    const outcome = await app.run(async (req) => {
      await new Promise<void>((resolve) => req.session.regenerate(() => resolve()))
      req.session.set('n', 1)
      return req.session.keys()
    })
    expect(outcome.result).toEqual(['n'])
    expect(app.stored()?.value).toEqual({ n: 1 })
  })

  it('resets persistent to the manager default on the new session; the old keeps its own', async () => {
    const app = await startApp(kind)
    seed(app, DATA, true)
    const outcome = await app.run(async (req) => {
      const old = req.session
      const before = old.persistent
      await regenerated(old)
      req.session.set('user', 'ada')
      return { before, old: old.persistent, next: req.session.persistent }
    })
    expect(outcome.result).toEqual({ before: true, old: true, next: false })
    const cookie = outcome.setCookies.find((c) => c.name === 'session') as SetCookie
    expect(cookie.attributes['max-age']).toBeUndefined() // a browser-session cookie again
    expect(app.stored()?.persistent).toBe(false)
  })

  it('req.session = null after regenerate(cb) ends the new session: the cookie is deleted', async () => {
    const app = await startApp(kind)
    seed(app)
    const outcome = await app.run(async (req) => {
      const old = req.session
      await regenerated(old)
      const next = req.session
      next.set('x', 1)
      req.session = null
      return { after: req.session, oldDestroyed: old.destroyed, oldUser: old.get('user'), nextUser: next.get('user') }
    })
    // req.session reads null; the new session ends when it is committed (the old keeps its data).
    expect(outcome.result).toEqual({ after: null, oldDestroyed: false, oldUser: 'ada', nextUser: undefined })
    expect(outcome.setCookies.map((cookie) => isDeletion(cookie))).toEqual([true])
  })

  it('destroy() then regenerate(cb) starts a new writable session', async () => {
    const app = await startApp(kind)
    seed(app)
    await app.run(async (req) => {
      req.session.destroy()
      await regenerated(req.session)
      req.session.set('again', true)
    })
    expect(app.stored()?.value).toEqual({ again: true })
  })

  it('req.flash after regenerate(cb) queues into the new session', async () => {
    const app = await startApp(kind)
    seed(app, { user: 'ada', _flashes: [['info', 'before']] })
    const outcome = await app.run(async (req) => {
      const old = req.session
      await regenerated(old)
      return { count: req.flash('info', 'after'), oldFlashes: old.peekFlashes() }
    })
    expect(outcome.result).toEqual({ count: 1, oldFlashes: [{ category: 'info', message: 'before' }] })
    expect(app.stored()?.value).toEqual({ _flashes: [['info', 'after']] })
  })

  it.each<[string, (session: Session) => void]>([
    ['regenerate(cb)', (session) => session.regenerate(() => {})],
    ['regenerate()', (session) => session.regenerate()],
  ])('reports %s after the headers were sent to onError as ChangedAfterCommit; the cookie is left as it was', async (_, regenerate) => {
    const app = await startApp(kind)
    seed(app)
    const before = app.jar.get('session')
    const outcome = await app.run((req, res) => {
      const user = req.session.get('user')
      res.setHeader('content-type', 'application/json')
      res.write(' ') // headers out: the session was committed (unchanged: no Set-Cookie)
      const reportedBefore = app.errors.length
      regenerate(req.session)
      return { user, reportedBefore, reportedAfter: app.errors.length }
    })
    expect(outcome.result).toEqual({ user: 'ada', reportedBefore: 0, reportedAfter: 1 })
    expect(outcome.setCookies).toEqual([])
    expect(app.jar.get('session')).toBe(before)
    expect(app.errors).toHaveLength(1)
    const { error, url } = app.errors[0] as { error: unknown; url: string | undefined }
    expect(error).toBeInstanceOf(ChangedAfterCommit)
    expect((error as ChangedAfterCommit).code).toBe('ERR_SESSION_CHANGED_AFTER_COMMIT')
    expect(url).toBe('/')
  })

  it('reports a regenerate(cb) after the headers were sent even when the session was first read then', async () => {
    const app = await startApp(kind)
    seed(app)
    await app.run((req, res) => {
      res.setHeader('content-type', 'application/json')
      res.write(' ')
      req.session.regenerate(() => {})
    })
    expect(app.errors.map((entry) => (entry.error as ChangedAfterCommit).code)).toEqual(['ERR_SESSION_CHANGED_AFTER_COMMIT'])
  })

  it('after a late regenerate(cb), a write to the new req.session is reported too (each lost change once)', async () => {
    const app = await startApp(kind)
    seed(app)
    await app.run(async (req, res) => {
      req.session.get('user')
      res.setHeader('content-type', 'application/json')
      res.write(' ')
      await regenerated(req.session) // reported: the old session changed after the commit
      req.session.set('user', 'late') // reported: the new one is watched as well
      req.session.set('again', 1) // the same session's next change: not reported twice
    })
    expect(app.errors.map((entry) => (entry.error as ChangedAfterCommit).code)).toEqual(['ERR_SESSION_CHANGED_AFTER_COMMIT', 'ERR_SESSION_CHANGED_AFTER_COMMIT'])
    expect(app.stored()?.value).toEqual(DATA)
  })

  it('reports a write to the new session after the headers were sent', async () => {
    const app = await startApp(kind)
    seed(app)
    await app.run(async (req, res) => {
      req.session.get('user')
      await regenerated(req.session)
      res.setHeader('content-type', 'application/json')
      res.write(' ') // the new, empty session is committed here: the cookie is deleted
      req.session.set('user', 'late')
    })
    expect(app.jar.get('session')).toBeUndefined()
    expect(app.errors.map((entry) => (entry.error as ChangedAfterCommit).code)).toEqual(['ERR_SESSION_CHANGED_AFTER_COMMIT'])
  })
})

describe.each<AppKind>(['sessionMiddleware (Express)', 'withSessions'])('req.session.regenerate() without a callback, with %s: in place', (kind) => {
  it('empties the same object, which stays writable, and commits a new identity', async () => {
    const app = await startApp(kind)
    seed(app)
    app.advance(600)
    const outcome = await app.run((req) => {
      const session = req.session
      session.regenerate()
      const after = { same: req.session === session, keys: session.keys(), isNew: session.isNew }
      session.set('user', 'grace')
      req.session.visits = 1
      return after
    })
    expect(outcome.result).toEqual({ same: true, keys: [], isNew: true })
    const stored = app.stored()
    expect(stored?.value).toEqual({ user: 'grace', visits: 1 })
    expect(stored?.expiresAt).toBe(NOW + 600_000 + LIFETIME * 1000)
  })

  it('twice in a row, and then regenerate(cb), on the same object until the callback form replaces it', async () => {
    const app = await startApp(kind)
    seed(app)
    const outcome = await app.run(async (req) => {
      const session = req.session
      session.regenerate()
      session.set('a', 1)
      session.regenerate()
      session.set('b', 2)
      const sameAfterTwo = req.session === session
      await regenerated(session)
      req.session.set('c', 3)
      return { sameAfterTwo, replacedByCallbackForm: req.session !== session, old: session.toJSON() }
    })
    expect(outcome.result).toEqual({ sameAfterTwo: true, replacedByCallbackForm: true, old: { b: 2 } })
    expect(app.stored()?.value).toEqual({ c: 3 })
  })

  it('on the session regenerate(cb) handed out: in place too', async () => {
    const app = await startApp(kind)
    seed(app)
    const outcome = await app.run(async (req) => {
      await regenerated(req.session)
      const next = req.session
      next.set('a', 1)
      next.regenerate()
      next.set('b', 2)
      return req.session === next
    })
    expect(outcome.result).toBe(true)
    expect(app.stored()?.value).toEqual({ b: 2 })
  })
})

describe('regenerate() on a session not handed out by req.session: in place', () => {
  it('sessions.read(...): the same object, emptied, new and still writable', () => {
    const sessions = createSessions({ secrets, clock: () => NOW, lifetime: LIFETIME })
    const session = sessions.read(`session=${sessions.sign(DATA)}`)
    const same = session
    session.regenerate()
    expect(session).toBe(same)
    expect(session.keys()).toEqual([])
    expect(session.isNew).toBe(true)
    session.set('user', 'ada')
    expect(session.get('user')).toBe('ada')
    const [cookie] = sessions.commit(session).setCookie
    const verified = sessions.verify(parseSetCookie(cookie as string).value)
    expect(verified).toMatchObject({ ok: true, value: { user: 'ada' } })
    expect(Object.keys((verified as { value: object }).value)).toEqual(['user'])
  })

  it('sessions.read(...).regenerate(cb) calls cb asynchronously and leaves the object writable', async () => {
    const sessions = createSessions({ secrets })
    const session = sessions.read(`session=${sessions.sign(DATA)}`)
    const events: string[] = []
    await new Promise<void>((resolve) => {
      session.regenerate(() => {
        events.push('callback')
        resolve()
      })
      events.push('returned')
    })
    expect(events).toEqual(['returned', 'callback'])
    session.set('again', 1)
    expect(session.toJSON()).toEqual({ again: 1 })
  })

  it('readSession + commitSession of frasco/node (no middleware): in place', async () => {
    const sessions = createSessions({ secrets })
    const server = await startServer((req, res) => {
      const session = readSession(sessions, req)
      const before = session
      session.regenerate()
      session.set('fresh', session === before)
      commitSession(sessions, req, res, session)
      res.end(String(session.size))
    })
    const response = await fetch(server.url('/'), { headers: { cookie: `session=${sessions.sign(DATA)}` } })
    expect(await response.text()).toBe('1')
    const cookie = parseSetCookie(response.headers.getSetCookie()[0] as string)
    expect(sessions.verify(cookie.value)).toMatchObject({ ok: true, value: { fresh: true } })
  })

  it('readSession of frasco/node inside sessionMiddleware is not req.session: in place, and req.session is untouched', async () => {
    const sessions = createSessions({ secrets })
    const middleware = sessionMiddleware(sessions)
    const server = await startServer((req, res) => {
      middleware(req, res, () => {
        const request = req as unknown as SessionRequest
        const own = readSession(sessions, req)
        own.regenerate()
        own.set('own', 1) // still writable: no holder
        res.end(JSON.stringify({ reqUser: request.session.get('user'), own: own.toJSON() }))
      })
    })
    const response = await fetch(server.url('/'), { headers: { cookie: `session=${sessions.sign(DATA)}` } })
    expect(JSON.parse(await response.text())).toEqual({ reqUser: 'ada', own: { own: 1 } })
    expect(response.headers.getSetCookie()).toEqual([]) // req.session was only read
  })

  it('frasco/fetch withSessions: the handler\'s session is regenerated in place', async () => {
    const sessions = createSessions({ secrets })
    let seen: { same: boolean; size: number; isNew: boolean } | undefined
    const handle = withFetchSessions(sessions, (_request, session) => {
      const before = session
      session.regenerate()
      seen = { same: session === before, size: session.size, isNew: session.isNew }
      session.set('user', 'grace')
      return new Response('ok')
    })
    const response = await handle(new Request('http://app.test/', { headers: { cookie: `session=${sessions.sign(DATA)}` } }))
    expect(seen).toEqual({ same: true, size: 0, isNew: true })
    const cookie = parseSetCookie(response.headers.getSetCookie()[0] as string)
    const verified = sessions.verify(cookie.value)
    expect(verified).toMatchObject({ ok: true, value: { user: 'grace' } })
    expect(Object.keys((verified as { value: object }).value)).toEqual(['user'])
  })

  it('frasco/fetch readSession + commitSession: in place', () => {
    const sessions = createSessions({ secrets })
    const request = new Request('http://app.test/', { headers: { cookie: `session=${sessions.sign(DATA)}` } })
    const session = fetchRead(sessions, request)
    const before = session
    session.regenerate()
    expect(session).toBe(before)
    expect(session.isNew).toBe(true)
    session.set('user', 'grace')
    const response = fetchCommit(sessions, request, new Response('ok'), session)
    const cookie = parseSetCookie(response.headers.getSetCookie()[0] as string)
    expect(sessions.verify(cookie.value)).toMatchObject({ ok: true, value: { user: 'grace' } })
  })
})

/**
 * connect-flash's `req.flash`, which `sessionMiddleware` and `withSessions` of frasco/node put on
 * every request, over the session's Flask-style flashes (`[category, message]` pairs under
 * `_flashes`). Every case runs over a real socket, once through an Express app and once through a
 * `withSessions` handler: the step runs inside the server and its result comes back as JSON, and
 * the cookie it left is verified with the same manager.
 */
import { randomBytes } from 'node:crypto'
import { describe, it, expect } from 'vitest'
import type { SessionRequest } from '../../src/adapters/node.js'
import { createSessions, type Sessions } from '../../src/sessions.js'
import { startStepServer, type AppKind, type Step } from '../helpers/steps.js'
import { CookieJar, isDeletion, parseSetCookie, startServer, useTestServers, type SetCookie } from '../helpers/server.js'

useTestServers()

const secrets = [randomBytes(32).toString('base64url')]

interface Outcome {
  status: number
  /** What the step returned, or the error it threw as `Name: message`. */
  result: unknown
  error: string | undefined
  setCookies: SetCookie[]
  vary: string | null
}

interface App {
  sessions: Sessions
  jar: CookieJar
  /** Runs `step` inside the server on one GET / with the jar's cookies. */
  run(step: Step): Promise<Outcome>
  /** The data of the session cookie now in the jar (undefined when there is none). */
  stored(): Record<string, unknown> | undefined
}

async function startApp(kind: AppKind): Promise<App> {
  const sessions = createSessions({ secrets })
  const { server, setStep } = await startStepServer(kind, sessions)
  const jar = new CookieJar()
  return {
    sessions,
    jar,
    async run(next) {
      setStep(next)
      const response = await jar.fetch(server.url('/'))
      const body = (await response.json()) as { result?: unknown; error?: string }
      return {
        status: response.status,
        result: body.result,
        error: body.error,
        setCookies: response.headers.getSetCookie().map(parseSetCookie),
        vary: response.headers.get('vary'),
      }
    },
    stored() {
      const value = jar.get('session')
      if (value === undefined) return undefined
      const verified = sessions.verify(value)
      if (!verified.ok) throw new Error(`the jar holds a session cookie that does not verify: ${verified.error.code}`)
      return verified.value as Record<string, unknown>
    },
  }
}

/** Puts a session cookie holding `data` in the app's jar, as an earlier response would have. */
function seed(app: App, data: Record<string, unknown>): void {
  app.jar.set('session', app.sessions.sign(data))
}

describe.each<AppKind>(['sessionMiddleware (Express)', 'withSessions'])('req.flash with %s', (kind) => {
  it('is a function on every request, and a request that never calls it reads no session', async () => {
    const app = await startApp(kind)
    seed(app, { user: 'ada' })
    const outcome = await app.run((req) => typeof req.flash)
    expect(outcome.result).toBe('function')
    // Lazy: no cookie written, and no Vary: Cookie since nothing depended on the session.
    expect(outcome.setCookies).toEqual([])
    expect(outcome.vary).toBeNull()
  })

  it('req.flash(type, message) queues a message and returns how many of that type are queued', async () => {
    const app = await startApp(kind)
    const outcome = await app.run((req) => [req.flash('info', 'a'), req.flash('info', 'b'), req.flash('error', 'c'), req.flash('info', 'd')])
    expect(outcome.result).toEqual([1, 2, 1, 3])
    expect(outcome.setCookies.map((cookie) => cookie.name)).toEqual(['session'])
    // Stored as Flask stores them: [category, message] pairs under _flashes, in order.
    expect(app.stored()).toEqual({ _flashes: [['info', 'a'], ['info', 'b'], ['error', 'c'], ['info', 'd']] })
  })

  it('counts the messages of that type already in the cookie', async () => {
    const app = await startApp(kind)
    seed(app, { _flashes: [['info', 'old'], ['error', 'e']] })
    const outcome = await app.run((req) => req.flash('info', 'new'))
    expect(outcome.result).toBe(2)
    expect(app.stored()).toEqual({ _flashes: [['info', 'old'], ['error', 'e'], ['info', 'new']] })
  })

  it('req.flash(type, [a, b]) queues each message and returns the count', async () => {
    const app = await startApp(kind)
    const outcome = await app.run((req) => req.flash('info', ['a', 'b', 'c']))
    expect(outcome.result).toBe(3)
    expect(app.stored()).toEqual({ _flashes: [['info', 'a'], ['info', 'b'], ['info', 'c']] })
  })

  it('req.flash(type, []) queues nothing and writes no cookie', async () => {
    const app = await startApp(kind)
    const outcome = await app.run((req) => req.flash('info', []))
    expect(outcome.result).toBe(0)
    expect(outcome.setCookies).toEqual([])
    expect(app.stored()).toBeUndefined()
  })

  it.each<[string, unknown[], string]>([
    ['%s is %d', ['x', 3], 'x is 3'],
    ['%s/%s', ['a'], 'a/%s'],
    ['%j', [{ a: 1 }], '{"a":1}'],
    ['%i%%', [42.9], '42%'],
    ['plain', ['extra', 1], 'plain extra 1'],
  ])('req.flash(type, %j, ...args) queues util.format\'s result', async (format, args, expected) => {
    const app = await startApp(kind)
    const outcome = await app.run((req) => req.flash('info', format, ...args))
    expect(outcome.result).toBe(1)
    expect(app.stored()).toEqual({ _flashes: [['info', expected]] })
  })

  it('does not format a lone message: req.flash(type, "%s") stores it as written', async () => {
    const app = await startApp(kind)
    await app.run((req) => req.flash('info', '100%s %d'))
    expect(app.stored()).toEqual({ _flashes: [['info', '100%s %d']] })
  })

  it('req.flash(type) returns and removes the messages of that type; the others stay', async () => {
    const app = await startApp(kind)
    seed(app, { user: 'ada', _flashes: [['info', 'a'], ['error', 'e'], ['info', 'b']] })
    const taken = await app.run((req) => req.flash('info'))
    expect(taken.result).toEqual(['a', 'b'])
    expect(app.stored()).toEqual({ user: 'ada', _flashes: [['error', 'e']] })

    // Taken means gone: none left of that type, and nothing changed, so nothing is written.
    const again = await app.run((req) => req.flash('info'))
    expect(again.result).toEqual([])
    expect(again.setCookies).toEqual([])

    const errors = await app.run((req) => req.flash('error'))
    expect(errors.result).toEqual(['e'])
    // The last message gone, the _flashes key goes with it.
    expect(app.stored()).toEqual({ user: 'ada' })
  })

  it('req.flash() returns every message grouped by type, in a null-prototype object, and removes them', async () => {
    const app = await startApp(kind)
    seed(app, { user: 'ada', _flashes: [['info', 'a'], ['error', 'e'], ['info', 'b'], ['message', 'm']] })
    const outcome = await app.run((req) => {
      const all = req.flash()
      return { all, prototype: Object.getPrototypeOf(all), keys: Object.keys(all) }
    })
    expect(outcome.result).toEqual({ all: { info: ['a', 'b'], error: ['e'], message: ['m'] }, prototype: null, keys: ['info', 'error', 'message'] })
    expect(app.stored()).toEqual({ user: 'ada' })

    const empty = await app.run((req) => {
      const all = req.flash()
      return { keys: Object.keys(all), prototype: Object.getPrototypeOf(all) }
    })
    expect(empty.result).toEqual({ keys: [], prototype: null })
    expect(empty.setCookies).toEqual([])
  })

  it('req.flash() on a session holding only flashes empties it: the cookie is deleted', async () => {
    const app = await startApp(kind)
    seed(app, { _flashes: [['info', 'a']] })
    const outcome = await app.run((req) => req.flash())
    expect(outcome.result).toEqual({ info: ['a'] })
    expect(outcome.setCookies).toHaveLength(1)
    expect(isDeletion(outcome.setCookies[0] as SetCookie)).toBe(true)
    expect(app.jar.get('session')).toBeUndefined()
  })

  it('skips entries of _flashes that are not [category, message] pairs, as Flask does', async () => {
    const app = await startApp(kind)
    seed(app, { _flashes: [['info', 'a'], 'junk', ['error'], ['x', 1], ['info', 'b']] })
    const outcome = await app.run((req) => [req.flash('info', 'c'), req.flash()])
    expect(outcome.result).toEqual([3, { info: ['a', 'b', 'c'] }])
  })

  it.each<[string, (req: SessionRequest) => unknown]>([
    ['a number type', (req) => (req.flash as (...args: unknown[]) => unknown)(42, 'x')],
    ['a null type', (req) => (req.flash as (...args: unknown[]) => unknown)(null, 'x')],
    ['an object type', (req) => (req.flash as (...args: unknown[]) => unknown)({}, 'x')],
    ['a symbol type', (req) => (req.flash as (...args: unknown[]) => unknown)(Symbol('info'), 'x')],
    ['a number type alone', (req) => (req.flash as (...args: unknown[]) => unknown)(42)],
    ['a number message', (req) => (req.flash as (...args: unknown[]) => unknown)('info', 42)],
    ['a null message', (req) => (req.flash as (...args: unknown[]) => unknown)('info', null)],
    ['an object message', (req) => (req.flash as (...args: unknown[]) => unknown)('info', { text: 'x' })],
    ['a list holding a number', (req) => (req.flash as (...args: unknown[]) => unknown)('info', [42])],
    ['a list with a number after a string', (req) => (req.flash as (...args: unknown[]) => unknown)('info', ['a', 42])],
  ])('throws a TypeError for %s, and queues nothing', async (_, call) => {
    const app = await startApp(kind)
    const outcome = await app.run((req) => {
      try {
        call(req)
      } catch (error) {
        return { name: (error as Error).name, isTypeError: error instanceof TypeError, queued: req.session.peekFlashes() }
      }
      return 'no error'
    })
    expect(outcome.result).toEqual({ name: 'TypeError', isTypeError: true, queued: [] })
    expect(outcome.setCookies).toEqual([])
  })

  it('shares its messages with req.session.flash, peekFlashes and consumeFlashes in the same request', async () => {
    const app = await startApp(kind)
    const outcome = await app.run((req) => {
      req.flash('info', 'from req.flash')
      req.session.flash('from session.flash', 'warning')
      req.session.flash('default category')
      const seen = req.session.peekFlashes()
      const infoCount = req.flash('info', 'second')
      const consumed = req.session.consumeFlashes('info')
      const rest = req.flash()
      return { seen, infoCount, consumed, rest, left: req.session.peekFlashes() }
    })
    expect(outcome.result).toEqual({
      seen: [
        { category: 'info', message: 'from req.flash' },
        { category: 'warning', message: 'from session.flash' },
        { category: 'message', message: 'default category' },
      ],
      infoCount: 2,
      consumed: [
        { category: 'info', message: 'from req.flash' },
        { category: 'info', message: 'second' },
      ],
      rest: { warning: ['from session.flash'], message: ['default category'] },
      left: [],
    })
    // All taken: nothing to store.
    expect(app.stored()).toBeUndefined()
  })

  it('carries messages to the next request through the cookie, both ways', async () => {
    const app = await startApp(kind)
    // req.flash now, session.consumeFlashes on the next request.
    const queued = await app.run((req) => {
      req.flash('info', 'Saved.')
      return req.flash('error', ['Bad name.', 'Bad date.'])
    })
    expect(queued.result).toBe(2)
    expect(app.stored()).toEqual({ _flashes: [['info', 'Saved.'], ['error', 'Bad name.'], ['error', 'Bad date.']] })
    const read = await app.run((req) => req.session.consumeFlashes())
    expect(read.result).toEqual([
      { category: 'info', message: 'Saved.' },
      { category: 'error', message: 'Bad name.' },
      { category: 'error', message: 'Bad date.' },
    ])
    expect(app.jar.get('session')).toBeUndefined()

    // session.flash now, req.flash on the next request, then on the one after: shown once.
    await app.run((req) => {
      req.session.flash('Welcome back.', 'success')
      req.session.flash('Hello.')
    })
    const shown = await app.run((req) => ({ success: req.flash('success'), message: req.flash('message') }))
    expect(shown.result).toEqual({ success: ['Welcome back.'], message: ['Hello.'] })
    const later = await app.run((req) => req.flash())
    expect(later.result).toEqual({})
  })

  it('treats a __proto__ type as a plain key, without touching any prototype', async () => {
    const app = await startApp(kind)
    const queued = await app.run((req) => [req.flash('__proto__', 'p'), req.flash('constructor', 'c')])
    expect(queued.result).toEqual([1, 1])
    expect(app.stored()?._flashes).toEqual([['__proto__', 'p'], ['constructor', 'c']])
    const outcome = await app.run((req) => {
      const all = req.flash()
      return {
        keys: Object.keys(all),
        proto: Object.getOwnPropertyDescriptor(all, '__proto__')?.value as unknown,
        ctor: Object.getOwnPropertyDescriptor(all, 'constructor')?.value as unknown,
        prototype: Object.getPrototypeOf(all),
      }
    })
    expect(outcome.result).toEqual({ keys: ['__proto__', 'constructor'], proto: ['p'], ctor: ['c'], prototype: null })
    expect(({} as Record<string, unknown>).p).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('0')

    await app.run((req) => req.flash('__proto__', 'q'))
    const taken = await app.run((req) => req.flash('__proto__'))
    expect(taken.result).toEqual(['q'])
  })

  it('queues into the session req.session hands out after regenerate()', async () => {
    const app = await startApp(kind)
    seed(app, { user: 'ada', _flashes: [['info', 'before']] })
    const outcome = await app.run((req) => {
      req.session.regenerate()
      return [req.flash('info', 'after'), req.flash('info', 'again')]
    })
    // The old session's message is not counted: the new session starts empty.
    expect(outcome.result).toEqual([1, 2])
    expect(app.stored()).toEqual({ _flashes: [['info', 'after'], ['info', 'again']] })
  })

  it('refuses to queue into a destroyed session (req.session = null) with a TypeError', async () => {
    const app = await startApp(kind)
    seed(app, { user: 'ada' })
    const outcome = await app.run((req) => {
      req.session = null
      req.flash('info', 'x')
    })
    expect(outcome.error).toMatch(/^TypeError: /)
    expect(outcome.setCookies.map((cookie) => isDeletion(cookie))).toEqual([true])
  })
})

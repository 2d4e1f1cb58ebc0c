import { inspect } from 'node:util'
import { describe, it, expect, expectTypeOf, vi } from 'vitest'
import {
  createSession,
  getSessionState,
  holdSession,
  isSession,
  isSessionUnread,
  openLazySession,
  openSession,
  watchSession,
  type FlashMessage,
  type Session,
  type SessionData,
  type SessionEntry,
  type SessionState,
} from '../src/session.js'

/** A session loaded from a cookie holding `data`: neither modified nor accessed yet. */
function loaded(data: SessionData = { a: 1, b: 'two' }): Session {
  return createSession({ data, isNew: false })
}

function flags(session: Session): Pick<SessionState, 'modified' | 'accessed'> {
  const { modified, accessed } = getSessionState(session)
  return { modified, accessed }
}

/** Waits long enough for microtasks, nextTicks and immediates queued so far. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0))
}

describe('createSession', () => {
  it('starts new, empty, untouched by default', () => {
    const session = createSession()
    const state = getSessionState(session)
    expect(state).toMatchObject({
      isNew: true,
      modified: false,
      accessed: false,
      destroyed: false,
      regenerated: false,
    })
    expect(Object.keys(state.data)).toEqual([])
  })

  it('copies init data without marking the session modified or accessed', () => {
    const data = { user: 'ada', n: 1 }
    const session = createSession({ data, isNew: false })
    const state = getSessionState(session)
    expect(state.isNew).toBe(false)
    expect(flags(session)).toEqual({ modified: false, accessed: false })
    expect({ ...state.data }).toEqual(data)
    expect(Object.getPrototypeOf(state.data)).toBeNull()
  })

  it.each<[string, (session: Session) => void]>([
    ['a new session', () => {}],
    ['clear()', (session) => session.clear()],
    ['regenerate()', (session) => session.regenerate()],
    ['destroy()', (session) => session.destroy()],
  ])('the store after %s inherits nothing', (_, act) => {
    const session = createSession({ data: { user: 'ada' } })
    act(session)
    const store = getSessionState(session).data
    for (const name of ['toString', 'valueOf', 'hasOwnProperty', 'constructor', '__proto__', '__defineGetter__']) {
      expect(name in store, name).toBe(false)
    }
    expect(Object.getPrototypeOf(store)).toBeNull()
  })

  it('detaches the store from the init object', () => {
    const data: SessionData = { user: 'ada' }
    const session = createSession({ data })
    data['user'] = 'eve'
    data['extra'] = true
    expect(session.toJSON()).toEqual({ user: 'ada' })
  })

  it('skips undefined values, as set(key, undefined) would', () => {
    const session = createSession({ data: { a: undefined, b: null } })
    expect(session.keys()).toEqual(['b'])
  })

  it.each([
    ['data is null', { data: null }],
    ['data is an array', { data: [] }],
    ['data is a string', { data: 'x' }],
    ['isNew is not a boolean', { isNew: 'yes' }],
  ])('rejects invalid options: %s', (_label, options) => {
    expect(() => createSession(options as never)).toThrow(TypeError)
  })
})

describe('methods', () => {
  it('get returns the stored value or undefined', () => {
    const session = loaded()
    expect(session.get('a')).toBe(1)
    expect(session.get('missing')).toBeUndefined()
  })

  it('set stores a value and returns the session for chaining', () => {
    const session = createSession()
    expect(session.set('x', 1).set('y', 2)).toBe(session)
    expect(session.toJSON()).toEqual({ x: 1, y: 2 })
  })

  it('set(key, undefined) deletes the key', () => {
    const session = loaded()
    session.set('a', undefined)
    expect(session.has('a')).toBe(false)
    expect(session.keys()).toEqual(['b'])
  })

  it('set keeps null, false, 0 and empty strings', () => {
    const session = createSession()
    session.set('n', null).set('f', false).set('z', 0).set('s', '')
    expect(session.toJSON()).toEqual({ n: null, f: false, z: 0, s: '' })
    expect(session.size).toBe(4)
  })

  it('has reports presence, including falsy values', () => {
    const session = loaded({ zero: 0 })
    expect(session.has('zero')).toBe(true)
    expect(session.has('missing')).toBe(false)
  })

  it('delete returns whether the key was there', () => {
    const session = loaded()
    expect(session.delete('a')).toBe(true)
    expect(session.delete('a')).toBe(false)
    expect(session.keys()).toEqual(['b'])
  })

  it('pop removes and returns the value, or the fallback', () => {
    const session = loaded()
    expect(session.pop('a')).toBe(1)
    expect(session.pop('a')).toBeUndefined()
    expect(session.pop('a', 'fallback')).toBe('fallback')
    expect(session.pop('b', 'fallback')).toBe('two')
    expect(session.size).toBe(0)
  })

  it('clear removes everything but keeps the identity', () => {
    const session = loaded()
    session.clear()
    const state = getSessionState(session)
    expect(session.size).toBe(0)
    expect(state.isNew).toBe(false)
    expect(state.regenerated).toBe(false)
  })

  it('keys, entries and size follow insertion order', () => {
    const session = createSession()
    session.set('z', 1).set('a', 2)
    expect(session.keys()).toEqual(['z', 'a'])
    expect(session.entries()).toEqual([
      ['z', 1],
      ['a', 2],
    ])
    expect(session.size).toBe(2)
  })

  it('keys and entries return fresh arrays', () => {
    const session = loaded()
    const keys = session.keys()
    keys.push('c')
    session.entries().pop()
    expect(session.keys()).toEqual(['a', 'b'])
  })

  it('toJSON returns a plain, detached, shallow copy', () => {
    const nested = { items: ['tea'] }
    const session = loaded({ cart: nested })
    const copy = session.toJSON()
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(copy).toEqual({ cart: nested })
    ;(copy as SessionData)['other'] = 1
    expect(session.has('other')).toBe(false)
    expect(copy['cart']).toBe(nested)
  })

  it('JSON.stringify gives the data', () => {
    const session = loaded()
    expect(JSON.stringify(session)).toBe('{"a":1,"b":"two"}')
    expect(JSON.stringify({ session })).toBe('{"session":{"a":1,"b":"two"}}')
  })

  it('flags are read-only views of the state', () => {
    const session = createSession()
    expect([session.isNew, session.modified, session.accessed, session.destroyed]).toEqual([
      true,
      false,
      false,
      false,
    ])
  })

  it.each([
    ['get', (s: Session, key: unknown) => s.get(key as string)],
    ['set', (s: Session, key: unknown) => s.set(key as string, 1)],
    ['has', (s: Session, key: unknown) => s.has(key as string)],
    ['delete', (s: Session, key: unknown) => s.delete(key as string)],
    ['pop', (s: Session, key: unknown) => s.pop(key as string)],
  ])('%s rejects non-string keys', (_name, call) => {
    for (const key of [1, Symbol('k'), null, undefined, {}]) {
      expect(() => call(createSession(), key)).toThrow(/keys must be strings/)
    }
  })

  it('methods called detached throw a TypeError naming the fix', () => {
    const { get } = createSession()
    expect(() => get('a')).toThrow(/must be called on the session/)
  })
})

describe('tracking', () => {
  type Row = [label: string, act: (s: Session) => unknown, modified: boolean, accessed: boolean]

  const rows: Row[] = [
    // reads
    ['get of a present key', (s) => s.get('a'), false, true],
    ['get of a missing key', (s) => s.get('zzz'), false, true],
    ['has', (s) => s.has('a'), false, true],
    ['keys', (s) => s.keys(), false, true],
    ['entries', (s) => s.entries(), false, true],
    ['size', (s) => s.size, false, true],
    ['toJSON', (s) => s.toJSON(), false, true],
    ['JSON.stringify', (s) => JSON.stringify(s), false, true],
    ['peekFlashes', (s) => s.peekFlashes(), false, true],
    ['property get', (s) => s['a'], false, true],
    ['property get of a missing key', (s) => s['zzz'], false, true],
    ['in', (s) => 'a' in s, false, true],
    ['Object.keys', (s) => Object.keys(s), false, true],
    ['spread', (s) => ({ ...s }), false, true],
    // writes (a write is also an access, as in Flask)
    ['set', (s) => s.set('c', 3), true, true],
    ['set to the same value', (s) => s.set('a', 1), true, true],
    ['set(existing, undefined)', (s) => s.set('a', undefined), true, true],
    ['property set', (s) => (s['c'] = 3), true, true],
    ['property set to the same value', (s) => (s['a'] = 1), true, true],
    ['delete of a present key', (s) => s.delete('a'), true, true],
    ['delete operator', (s) => delete s['a'], true, true],
    ['pop of a present key', (s) => s.pop('a'), true, true],
    ['clear of a non-empty session', (s) => s.clear(), true, true],
    ['touch', (s) => s.touch(), true, true],
    ['flash', (s) => s.flash('hi'), true, true],
    ['regenerate', (s) => s.regenerate(), true, true],
    ['destroy', (s) => s.destroy(), true, true],
    ['save', (s) => s.save(), true, true],
    // removals of nothing look, but change nothing
    ['delete of a missing key', (s) => s.delete('zzz'), false, true],
    ['delete operator on a missing key', (s) => delete s['zzz'], false, true],
    ['set(missing, undefined)', (s) => s.set('zzz', undefined), false, true],
    ['pop of a missing key', (s) => s.pop('zzz', 0), false, true],
    ['consumeFlashes with none queued', (s) => s.consumeFlashes(), false, true],
    // neither
    ['reading isNew', (s) => s.isNew, false, false],
    ['reading modified', (s) => s.modified, false, false],
    ['reading accessed', (s) => s.accessed, false, false],
    ['reading destroyed', (s) => s.destroyed, false, false],
    ['looking up a method', (s) => s.get, false, false],
    ["'get' in session", (s) => 'get' in s, false, false],
    ['a symbol property', (s) => (s as unknown as Record<symbol, unknown>)[Symbol.iterator], false, false],
    ['String(session)', (s) => String(s), false, false],
    ['Object.prototype.toString', (s) => Object.prototype.toString.call(s), false, false],
    ['util.inspect', (s) => inspect(s), false, false],
    ['getSessionState', (s) => getSessionState(s).data['a'], false, false],
    ['isSession', (s) => isSession(s), false, false],
  ]

  it.each(rows)('%s → modified %s, accessed %s', (_label, act, modified, accessed) => {
    const session = loaded()
    act(session)
    expect(flags(session)).toEqual({ modified, accessed })
  })

  it('clear of an empty session is an access, not a modification', () => {
    const session = loaded({})
    session.clear()
    expect(flags(session)).toEqual({ modified: false, accessed: true })
  })

  it('consumeFlashes that removes something is a modification', () => {
    const session = loaded({ _flashes: [['message', 'hi']] })
    session.consumeFlashes()
    expect(flags(session)).toEqual({ modified: true, accessed: true })
  })

  it('touch flags a nested mutation that the session cannot see', () => {
    const session = createSession<{ cart: { items: string[] } }>({
      data: { cart: { items: [] } },
      isNew: false,
    })
    session.get('cart')?.items.push('tea')
    expect(getSessionState(session).modified).toBe(false)
    session.touch()
    expect(getSessionState(session).modified).toBe(true)
    expect(getSessionState(session).data['cart']).toEqual({ items: ['tea'] })
  })
})

describe('property access', () => {
  type Row = [
    label: string,
    viaProperty: (s: Session) => unknown,
    viaMethod: (s: Session) => unknown,
  ]

  const rows: Row[] = [
    ['get', (s) => s['a'], (s) => s.get('a')],
    ['get of a missing key', (s) => s['zzz'], (s) => s.get('zzz')],
    ['set', (s) => void (s['c'] = 3), (s) => void s.set('c', 3)],
    ['set undefined', (s) => void (s['a'] = undefined), (s) => void s.set('a', undefined)],
    ['in', (s) => 'a' in s, (s) => s.has('a')],
    ['in of a missing key', (s) => 'zzz' in s, (s) => s.has('zzz')],
    ['delete', (s) => delete s['a'], (s) => (s.delete('a'), true)],
    ['delete of a missing key', (s) => delete s['zzz'], (s) => (s.delete('zzz'), true)],
    ['Object.keys', (s) => Object.keys(s), (s) => s.keys()],
    ['Object.entries', (s) => Object.entries(s), (s) => s.entries()],
    ['spread', (s) => ({ ...s }), (s) => s.toJSON()],
    ['for...in', (s) => forIn(s), (s) => s.keys()],
    ['Object.assign', (s) => void Object.assign(s, { c: 3 }), (s) => void s.set('c', 3)],
    [
      'Object.defineProperty',
      (s) => void Object.defineProperty(s, 'c', { value: 3, enumerable: true }),
      (s) => void s.set('c', 3),
    ],
    [
      'getOwnPropertyDescriptor',
      (s) => Object.getOwnPropertyDescriptor(s, 'a')?.value,
      (s) => s.get('a'),
    ],
  ]

  function forIn(session: Session): string[] {
    const keys: string[] = []
    for (const key in session) keys.push(key)
    return keys
  }

  it.each(rows)('%s leaves the same result and state as the method', (_l, viaProperty, viaMethod) => {
    const a = loaded()
    const b = loaded()
    expect(viaProperty(a)).toEqual(viaMethod(b))
    const stateA = getSessionState(a)
    const stateB = getSessionState(b)
    expect({ ...stateA.data }).toEqual({ ...stateB.data })
    expect(flags(a)).toEqual(flags(b))
  })

  it('typed properties read and write the same store', () => {
    const session = createSession<{ user: string }>()
    session.user = 'ada'
    expect(session.get('user')).toBe('ada')
    session.set('user', 'eve')
    expect(session.user).toBe('eve')
    delete session.user
    expect(session.has('user')).toBe(false)
  })

  it('symbols are not data', () => {
    const session = createSession()
    const tag = Symbol('tag')
    ;(session as unknown as Record<symbol, unknown>)[tag] = 1
    expect((session as unknown as Record<symbol, unknown>)[tag]).toBe(1)
    expect(session.keys()).toEqual([])
    expect(Reflect.ownKeys(session)).toEqual([])
  })

  it('the view cannot be frozen or re-prototyped', () => {
    const session = createSession()
    expect(() => Object.freeze(session)).toThrow(TypeError)
    expect(() => Object.preventExtensions(session)).toThrow(TypeError)
    expect(() => Object.setPrototypeOf(session, null)).toThrow(TypeError)
  })

  it('rejects accessor properties', () => {
    const session = createSession()
    expect(() => Object.defineProperty(session, 'x', { get: () => 1 })).toThrow(/accessor/)
    expect(session.has('x')).toBe(false)
  })

  it('stringifies without touching a data key named toString', () => {
    const session = createSession()
    session.set('toString', 'data').set('valueOf', 'data')
    expect(String(session)).toBe('[object Session]')
    expect(`${session}`).toBe('[object Session]')
    expect(Object.prototype.toString.call(session)).toBe('[object Session]')
  })

  it('inspects as flags and data', () => {
    const session = loaded({ user: 'ada' })
    const text = inspect(session)
    expect(text).toMatch(/^Session \{/)
    expect(text).toContain("user: 'ada'")
    expect(text).toContain('modified: false')
    expect(inspect({ nested: { session } }, { depth: 1 })).toContain('[Session]')
  })
})

describe('method names win over data keys', () => {
  const members = [
    'get',
    'set',
    'has',
    'delete',
    'pop',
    'clear',
    'keys',
    'entries',
    'size',
    'toJSON',
    'isNew',
    'modified',
    'accessed',
    'destroyed',
    'touch',
    'flash',
    'consumeFlashes',
    'peekFlashes',
    'regenerate',
    'destroy',
    'save',
  ]

  it.each(members)('data under %j stays reachable through get()', (name) => {
    const session = createSession()
    session.set(name, 'data')
    expect(session.get(name)).toBe('data')
    expect((session as unknown as SessionData)[name]).not.toBe('data')
    expect(session.keys()).toEqual([name])
  })

  it.each(members)('assigning session.%s throws a TypeError that names set()', (name) => {
    const session = createSession()
    expect(() => {
      ;(session as unknown as SessionData)[name] = 1
    }).toThrow(TypeError)
    expect(() => {
      ;(session as unknown as SessionData)[name] = 1
    }).toThrow(`session.set('${name}', value)`)
    expect(session.has(name)).toBe(false)
  })

  it.each(members)('delete session.%s throws and defineProperty too', (name) => {
    const session = createSession()
    session.set(name, 'data')
    expect(() => delete (session as unknown as SessionData)[name]).toThrow(TypeError)
    expect(() => Object.defineProperty(session, name, { value: 1 })).toThrow(TypeError)
    expect(session.get(name)).toBe('data')
  })

  it('session.get is the method even with data under "get"', () => {
    const session = createSession()
    session.set('get', 1)
    expect(typeof session.get).toBe('function')
    expect(session.get('get')).toBe(1)
    expect('get' in session).toBe(true)
  })

  it('shadowed keys are not own properties of the view; keys() and toJSON() list them', () => {
    const session = createSession()
    session.set('get', 1).set('user', 'ada')
    expect(Object.keys(session)).toEqual(['user'])
    expect(Reflect.ownKeys(session)).toEqual(['user'])
    expect({ ...session }).toEqual({ user: 'ada' })
    expect(Object.getOwnPropertyDescriptor(session, 'get')).toBeUndefined()
    expect(session.keys()).toEqual(['get', 'user'])
    expect(session.toJSON()).toEqual({ get: 1, user: 'ada' })
  })

  it('a key named then is data reached through get() only: await and Promise resolution never read the session', async () => {
    const session = loaded({ then: 'later', user: 'ada' })
    expect((session as unknown as SessionData)['then']).toBeUndefined()
    expect(await Promise.resolve(session)).toBe(session)
    expect(flags(session)).toEqual({ modified: false, accessed: false })
    expect(session.get('then')).toBe('later')
    expect(Object.keys(session)).toEqual(['user'])
    expect({ ...session }).toEqual({ user: 'ada' })
    expect(Object.getOwnPropertyDescriptor(session, 'then')).toBeUndefined()
    expect(session.keys()).toEqual(['then', 'user'])
    expect('then' in session).toBe(false)
    expect(flags(session)).toEqual({ modified: false, accessed: true })
    const refusal = "session.then is not on the property view (await looks it up on every value) and cannot be assigned or deleted: use session.set('then', value) or session.delete('then') for data under that name"
    expect(() => ((session as unknown as SessionData)['then'] = 'now')).toThrow(new TypeError(refusal))
    expect(() => delete (session as unknown as SessionData)['then']).toThrow(new TypeError(refusal))
    expect(() => Object.defineProperty(session, 'then', { value: 'now' })).toThrow(new TypeError(refusal))
    expect(session.toJSON()).toEqual({ then: 'later', user: 'ada' })
    expectTypeOf<Session<{ then: string; user: string }>>().not.toHaveProperty('then')
  })

  it('constructor, toString and hasOwnProperty are ordinary data keys', () => {
    const session = createSession()
    expect(session['constructor']).toBeUndefined()
    expect(session['toString']).toBeUndefined()
    expect('hasOwnProperty' in session).toBe(false)
    session['constructor'] = 'c'
    session.set('hasOwnProperty', 'h')
    expect(session.toJSON()).toEqual({ constructor: 'c', hasOwnProperty: 'h' })
  })
})

describe('prototype pollution', () => {

  it('set("__proto__") stores a plain key', () => {
    const session = createSession()
    const value = { polluted: 1 }
    session.set('__proto__', value)
    expect(session.get('__proto__')).toBe(value)
    expect(session.has('__proto__')).toBe(true)
    expect(session.keys()).toEqual(['__proto__'])
    expect(({} as SessionData)['polluted']).toBeUndefined()
    const store = getSessionState(session).data
    expect(Object.getPrototypeOf(store)).toBeNull()
    expect(Object.hasOwn(store, '__proto__')).toBe(true)
    expect('polluted' in store).toBe(false)
  })

  it('session["__proto__"] = ... stores a plain key', () => {
    const session = createSession()
    ;(session as unknown as SessionData)['__proto__'] = { polluted: 1 }
    expect(session.get('__proto__')).toEqual({ polluted: 1 })
    expect((session as unknown as SessionData)['__proto__']).toEqual({ polluted: 1 })
    expect(Object.getPrototypeOf(session)).not.toEqual({ polluted: 1 })
    expect(({} as SessionData)['polluted']).toBeUndefined()
  })

  it('init data parsed from JSON keeps "__proto__" as data', () => {
    const data = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 1}}}')
    const session = createSession({ data })
    expect(session.get('__proto__')).toEqual({ polluted: 1 })
    expect(session.keys()).toEqual(['__proto__', 'constructor'])
    expect(({} as SessionData)['polluted']).toBeUndefined()
    const store = getSessionState(session).data
    expect(Object.getPrototypeOf(store)).toBeNull()
    expect(Object.hasOwn(store, '__proto__')).toBe(true)
    expect(JSON.stringify(store)).toBe('{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}')
  })

  it('toJSON keeps "__proto__" an own key of an ordinary object', () => {
    const session = createSession()
    session.set('__proto__', { polluted: 1 })
    const copy = session.toJSON()
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype)
    expect(Object.keys(copy)).toEqual(['__proto__'])
    expect(JSON.stringify(session)).toBe('{"__proto__":{"polluted":1}}')
  })

  it('leaves Object.prototype alone (runs after the cases above)', () => {
    expect(({} as SessionData)['polluted']).toBeUndefined()
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('has() does not see inherited names', () => {
    const session = createSession()
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(session.has(key)).toBe(false)
      expect(session.get(key)).toBeUndefined()
    }
  })
})

describe('flashes', () => {
  it('stores [category, message] pairs under _flashes, as Flask does', () => {
    const session = createSession()
    session.flash('hi')
    expect(session.toJSON()).toEqual({ _flashes: [['message', 'hi']] })
    session.flash('bad', 'error')
    expect(getSessionState(session).data['_flashes']).toEqual([
      ['message', 'hi'],
      ['error', 'bad'],
    ])
  })

  it('reads flashes written by Flask', () => {
    const session = loaded({ _flashes: [['warning', 'careful'], ['message', 'hi']] })
    expect(session.peekFlashes()).toEqual<FlashMessage[]>([
      { category: 'warning', message: 'careful' },
      { category: 'message', message: 'hi' },
    ])
  })

  it('consumeFlashes returns them all in order and removes the key', () => {
    const session = createSession()
    session.flash('one')
    session.flash('two', 'error')
    expect(session.consumeFlashes()).toEqual([
      { category: 'message', message: 'one' },
      { category: 'error', message: 'two' },
    ])
    expect(session.has('_flashes')).toBe(false)
    expect(session.consumeFlashes()).toEqual([])
  })

  it('peekFlashes does not remove or modify', () => {
    const session = loaded({ _flashes: [['message', 'hi']] })
    expect(session.peekFlashes()).toEqual([{ category: 'message', message: 'hi' }])
    expect(session.peekFlashes()).toHaveLength(1)
    expect(flags(session)).toEqual({ modified: false, accessed: true })
  })

  it.each([
    ['a category', 'error', ['b'], [['message', 'a'], ['warning', 'c']]],
    ['a list of categories', ['error', 'warning'], ['b', 'c'], [['message', 'a']]],
    ['a category with no messages', 'info', [], [['message', 'a'], ['error', 'b'], ['warning', 'c']]],
  ] as const)('consumeFlashes with %s returns and removes only those', (_l, filter, got, left) => {
    const session = loaded({ _flashes: [['message', 'a'], ['error', 'b'], ['warning', 'c']] })
    expect(session.consumeFlashes(filter).map((flash) => flash.message)).toEqual(got)
    expect(getSessionState(session).data['_flashes']).toEqual(left)
    expect(session.modified).toBe(got.length > 0)
  })

  it('consuming the last filtered messages deletes the key', () => {
    const session = loaded({ _flashes: [['error', 'x'], ['error', 'y']] })
    expect(session.consumeFlashes('error')).toHaveLength(2)
    expect(session.has('_flashes')).toBe(false)
    expect(session.modified).toBe(true)
  })

  it('peekFlashes filters too', () => {
    const session = loaded({ _flashes: [['message', 'a'], ['error', 'b']] })
    expect(session.peekFlashes('error')).toEqual([{ category: 'error', message: 'b' }])
    expect(session.peekFlashes(['nope'])).toEqual([])
  })

  it('skips malformed entries when reading, drops them with an unfiltered consume', () => {
    const session = loaded({ _flashes: [['message', 'ok'], 'junk', ['x'], [1, 2], null] })
    expect(session.peekFlashes()).toEqual([{ category: 'message', message: 'ok' }])
    expect(session.consumeFlashes('message')).toHaveLength(1)
    expect(getSessionState(session).data['_flashes']).toEqual(['junk', ['x'], [1, 2], null])
    expect(session.consumeFlashes()).toEqual([])
    expect(session.has('_flashes')).toBe(false)
  })

  it('treats a non-array _flashes as none and replaces it on flash', () => {
    const session = loaded({ _flashes: 'garbage' })
    expect(session.peekFlashes()).toEqual([])
    session.flash('hi')
    expect(getSessionState(session).data['_flashes']).toEqual([['message', 'hi']])
  })

  it('copies on write, so an earlier snapshot does not change', () => {
    const session = createSession()
    session.flash('one')
    const before = session.toJSON()
    session.flash('two')
    expect(before).toEqual({ _flashes: [['message', 'one']] })
  })

  it.each([
    ['a non-string message', () => createSession().flash(1 as unknown as string)],
    ['a non-string category', () => createSession().flash('hi', 1 as unknown as string)],
    ['a non-string filter', () => createSession().consumeFlashes(1 as unknown as string)],
    ['a filter list with a non-string', () => createSession().peekFlashes([1] as unknown as string[])],
  ])('rejects %s', (_label, call) => {
    expect(call).toThrow(TypeError)
  })
})

describe('regenerate, destroy, save', () => {
  it('regenerate drops the data and marks the session new and regenerated', () => {
    const session = loaded()
    session.regenerate()
    const state = getSessionState(session)
    expect(state).toMatchObject({ isNew: true, regenerated: true, destroyed: false, modified: true })
    expect(Object.keys(state.data)).toEqual([])
    session.set('user', 'ada')
    expect(session.toJSON()).toEqual({ user: 'ada' })
  })

  it('destroy drops the data and marks the session destroyed', () => {
    const session = loaded()
    session.destroy()
    const state = getSessionState(session)
    expect(state).toMatchObject({ destroyed: true, modified: true })
    expect(session.size).toBe(0)
  })

  it('save marks the session modified without changing data', () => {
    const session = loaded()
    session.save()
    expect(getSessionState(session).modified).toBe(true)
    expect(session.toJSON()).toEqual({ a: 1, b: 'two' })
  })

  it.each(['regenerate', 'destroy', 'save'] as const)(
    '%s calls its callback asynchronously, once, with no error',
    async (name) => {
      const session = loaded()
      const callback = vi.fn()
      session[name](callback)
      expect(callback).not.toHaveBeenCalled()
      await settle()
      expect(callback).toHaveBeenCalledTimes(1)
      expect(callback.mock.calls[0]).toEqual([])
    },
  )

  it.each(['regenerate', 'destroy', 'save'] as const)('%s rejects a non-function callback', (name) => {
    expect(() => loaded()[name]('nope' as never)).toThrow(TypeError)
  })

  it('callbacks run in call order', async () => {
    const order: string[] = []
    const session = loaded()
    session.regenerate(() => order.push('regenerate'))
    session.save(() => order.push('save'))
    await settle()
    expect(order).toEqual(['regenerate', 'save'])
  })

  it("supports Passport 0.6's logIn sequence", async () => {
    // passport/lib/sessionmanager.js: regenerate, then set passport.user, then save.
    const req = { session: loaded({ returnTo: '/cart' }) }
    await new Promise<void>((resolve, reject) => {
      req.session.regenerate((err) => {
        if (err) return reject(err)
        if (!req.session['passport']) req.session['passport'] = {}
        ;(req.session['passport'] as { user?: string }).user = 'ada'
        req.session.save((err) => (err ? reject(err) : resolve()))
      })
    })
    const state = getSessionState(req.session)
    expect({ ...state.data }).toEqual({ passport: { user: 'ada' } })
    expect(state).toMatchObject({ modified: true, regenerated: true, isNew: true })
  })

  describe('after destroy', () => {
    it.each([
      ['set', (s: Session) => s.set('a', 1)],
      ['property assignment', (s: Session) => (s['a'] = 1)],
      ['flash', (s: Session) => s.flash('bye')],
    ])('%s throws and tells to regenerate', (_label, write) => {
      const session = loaded()
      session.destroy()
      expect(() => write(session)).toThrow(/regenerate/)
    })

    it('reads see no data; removals, touch and save change nothing', async () => {
      const session = loaded()
      session.destroy()
      expect(session.get('a')).toBeUndefined()
      expect(session.delete('a')).toBe(false)
      expect(session.pop('a', 0)).toBe(0)
      session.clear()
      session.touch()
      const callback = vi.fn()
      session.save(callback)
      await settle()
      expect(callback).toHaveBeenCalledTimes(1)
      expect(getSessionState(session).destroyed).toBe(true)
    })

    it('regenerate starts a fresh session', () => {
      const session = loaded()
      session.destroy()
      session.regenerate()
      session.set('a', 1)
      expect(getSessionState(session)).toMatchObject({ destroyed: false, regenerated: true, isNew: true })
    })

    it('destroy after regenerate wins', () => {
      const session = loaded()
      session.regenerate()
      session.destroy()
      expect(getSessionState(session)).toMatchObject({ destroyed: true, regenerated: false })
    })
  })
})

describe('isSession and getSessionState', () => {
  it.each([
    ['a session', createSession(), true],
    ['a plain object', {}, false],
    ['null', null, false],
    ['a string', 'session', false],
    ['another proxy', new Proxy({}, {}), false],
    ['an object with a look-alike symbol', { [Symbol('frasco.session.state')]: {} }, false],
  ])('isSession(%s) is %s', (_label, value, expected) => {
    expect(isSession(value)).toBe(expected)
  })

  it('returns the same state object every time, and it is live', () => {
    const session = createSession()
    const state = getSessionState(session)
    expect(getSessionState(session)).toBe(state)
    session.set('a', 1)
    expect(state.modified).toBe(true)
    expect(state.data['a']).toBe(1)
  })

  it('offers a mutable meta bag that survives regenerate', () => {
    const session = createSession()
    getSessionState(session).meta['issuedAt'] = 123
    session.regenerate()
    expect(getSessionState(session).meta).toEqual({ issuedAt: 123 })
    expect(session.has('issuedAt')).toBe(false)
  })

  it('replaces data on clear, so the manager reads it at commit time', () => {
    const session = loaded()
    session.clear()
    expect(Object.keys(getSessionState(session).data)).toEqual([])
  })

  it('rejects anything but a session', () => {
    expect(() => getSessionState({} as Session)).toThrow(TypeError)
  })
})

describe('types', () => {
  type App = { user: string; cart?: { items: string[] }; get: number }

  it('types the methods from T', () => {
    const session = createSession<App>()
    expectTypeOf(session.get('user')).toEqualTypeOf<string | undefined>()
    expectTypeOf(session.get('cart')).toEqualTypeOf<{ items: string[] } | undefined>()
    expectTypeOf(session.get('get')).toEqualTypeOf<number | undefined>()
    expectTypeOf(session.set('user', 'ada')).toEqualTypeOf<Session<App>>()
    expectTypeOf(session.pop('user')).toEqualTypeOf<string | undefined>()
    expectTypeOf(session.pop('user', null)).toEqualTypeOf<string | null>()
    expectTypeOf(session.toJSON()).toEqualTypeOf<Partial<App>>()
    expectTypeOf(session.keys()).toEqualTypeOf<string[]>()
    expectTypeOf(session.entries()).toEqualTypeOf<
      Array<['user', string] | ['cart', { items: string[] } | undefined] | ['get', number]>
    >()
    expectTypeOf(session.consumeFlashes()).toEqualTypeOf<FlashMessage[]>()
    expectTypeOf(session.size).toEqualTypeOf<number>()
  })

  it('types data properties as optional, except method names', () => {
    const session = createSession<App>()
    expectTypeOf(session.user).toEqualTypeOf<string | undefined>()
    expectTypeOf(session.get).toBeFunction()
    expectTypeOf<Session<App>>().not.toHaveProperty('nope')
  })

  it('rejects wrong value types and unknown keys in typed sessions', () => {
    const session = createSession<App>()
    const never = (): void => {
      // @ts-expect-error a number is not a string
      session.set('user', 42)
      // @ts-expect-error unknown key
      session.set('nope', 1)
      // @ts-expect-error unknown key
      session.get('nope')
      // @ts-expect-error unknown key
      session.delete('nope')
      // @ts-expect-error unknown property
      session.nope = 1
      // @ts-expect-error a number is not a string
      session.user = 42
      // @ts-expect-error methods cannot be assigned
      session.get = () => 1
      // @ts-expect-error flags are read-only
      session.modified = true
      // @ts-expect-error undefined is not a string; delete the key instead
      session.set('user', undefined)
    }
    expect(typeof never).toBe('function')
    // has() takes any string, to probe for keys outside T.
    expectTypeOf(session.has).parameter(0).toEqualTypeOf<string>()
  })

  it('types Object.prototype names as data, since nothing stands behind the view', () => {
    const typed = createSession<App>()
    expectTypeOf(typed.toString).toEqualTypeOf<undefined>()
    expectTypeOf(typed.constructor).toEqualTypeOf<undefined>()
    const untyped = createSession()
    expectTypeOf(untyped.toString).toEqualTypeOf<unknown>()
    const declared = createSession<{ constructor: string }>()
    expectTypeOf(declared.constructor).toEqualTypeOf<string | undefined>()
    const never = (): void => {
      // @ts-expect-error toString is not a method of a session
      typed.toString()
    }
    expect(typeof never).toBe('function')
  })

  it('accepts interfaces as well as type aliases', () => {
    interface Declared {
      user: string
    }
    const session = createSession<Declared>()
    expectTypeOf(session.user).toEqualTypeOf<string | undefined>()
  })

  it('narrows entries by key', () => {
    const session = createSession<App>({ data: { user: 'ada' } })
    for (const entry of session.entries()) {
      if (entry[0] === 'user') expectTypeOf(entry[1]).toEqualTypeOf<string>()
    }
    expectTypeOf<SessionEntry<App>>().toEqualTypeOf<
      ['user', string] | ['cart', { items: string[] } | undefined] | ['get', number]
    >()
  })

  it('leaves the untyped session flexible', () => {
    const session = createSession()
    expectTypeOf(session).toEqualTypeOf<Session>()
    expectTypeOf(session.anything).toEqualTypeOf<unknown>()
    expectTypeOf(session.get('anything')).toEqualTypeOf<unknown>()
    expectTypeOf(session.entries()).toEqualTypeOf<Array<[string, unknown]>>()
    expectTypeOf(session.get).toBeFunction()
    session.anything = 1
    session.set('other', { nested: true })
  })

  it('narrows with isSession', () => {
    const value: unknown = createSession()
    if (isSession(value)) expectTypeOf(value).toEqualTypeOf<Session>()
  })
})

describe('changedKeys: what a store that writes only changed keys is told', () => {
  const tracked = (): Session => openSession<SessionData>({ a: 1, b: 2, c: 3 }, false, {}, false, false, true)
  const keys = (session: Session): string[] | undefined => {
    const changed = getSessionState(session).changedKeys
    return changed === undefined ? undefined : [...changed].sort()
  }

  it.each<[string, (session: Session) => void, string[] | undefined]>([
    ['nothing', () => undefined, []],
    ['a read', (session) => void session.get('a'), []],
    ['set, by method and by property', (session) => {
      session.set('a', 9)
      session.d = 4
    }, ['a', 'd']],
    ['delete and pop of present keys; of a missing key nothing', (session) => {
      session.delete('a')
      session.pop('b')
      session.delete('missing')
      delete session.other
    }, ['a', 'b']],
    ['set to undefined (a delete)', (session) => void session.set('c', undefined), ['c']],
    ['a flash and its consumption', (session) => {
      session.flash('hi')
      session.consumeFlashes()
    }, ['_flashes']],
    ['clear(): every key', (session) => session.clear(), undefined],
    ['touch(): every key', (session) => session.touch(), undefined],
    ['save(): every key', (session) => session.save(), undefined],
    ['regenerate() in place: every key', (session) => session.regenerate(), undefined],
  ])('records %s', (_, act, expected) => {
    const session = tracked()
    act(session)
    expect(keys(session)).toEqual(expected)
  })

  it('records nothing for a session opened without tracking (cookie sessions): every key counts', () => {
    const session = openSession<SessionData>({ a: 1 }, false, {}, false, false)
    expect(keys(session)).toBeUndefined()
    session.set('a', 2)
    expect(keys(session)).toBeUndefined()
    expect(keys(createSession())).toBeUndefined()
  })
})

describe('lazy sessions (openLazySession)', () => {
  /** A lazy session over `data` (persistent as the cookie says), and how often it was read. */
  function lazy(data: SessionData = { a: 1, b: 'two' }, trackChanges = false) {
    const reads = { count: 0 }
    const meta = { from: 'the cookie' }
    const session = openLazySession({
      openSession: () => {
        reads.count++
        return openSession(data, false, meta, true, false, trackChanges)
      },
    })
    return { session, reads, meta }
  }

  it.each<[string, (session: Session) => unknown]>([
    ['isSession', (session) => isSession(session)],
    ['isSessionUnread', (session) => isSessionUnread(session)],
    ['watchSession', (session) => watchSession(session, { sessionChanged: () => {} })],
    ['holdSession', (session) => holdSession(session, { sessionReplaced: () => {} })],
    ['inspect', (session) => inspect(session)],
    ['a symbol', (session) => (session as unknown as Record<symbol, unknown>)[Symbol.toStringTag]],
    ['await', async (session) => expect(await Promise.resolve(session)).toBe(session)],
    ['then, by property or the in operator', (session) => expect([(session as unknown as SessionData)['then'], 'then' in session]).toEqual([undefined, false])],
  ])('%s leaves it unread', async (_, act) => {
    const { session, reads } = lazy()
    await act(session)
    expect(reads.count).toBe(0)
    expect(isSessionUnread(session)).toBe(true)
    expect(inspect(session)).toBe('Session [not read yet]')
  })

  it.each<[string, (session: Session) => unknown, unknown]>([
    ['get', (session) => session.get('a'), 1],
    ['a property', (session) => (session as Record<string, unknown>).b, 'two'],
    ['has', (session) => session.has('a'), true],
    ['the in operator', (session) => 'a' in session, true],
    ['keys', (session) => session.keys(), ['a', 'b']],
    ['spread', (session) => ({ ...session }), { a: 1, b: 'two' }],
    ['Object.keys', (session) => Object.keys(session), ['a', 'b']],
    ['isNew', (session) => session.isNew, false],
    ['persistent', (session) => session.persistent, true],
    ['set', (session) => session.set('c', 3).get('c'), 3],
    ['destroy', (session) => (session.destroy(), session.destroyed), true],
    ['getSessionState', (session) => getSessionState(session).data, { a: 1, b: 'two' }],
  ])('%s reads it, once, and sees what the source read', (_, act, expected) => {
    const { session, reads } = lazy()
    expect(act(session)).toEqual(expected)
    expect(reads.count).toBe(1)
    expect(isSessionUnread(session)).toBe(false)
    session.get('a')
    getSessionState(session)
    expect(reads.count).toBe(1)
  })

  it('takes over the read state: its meta bag, its default persistence and its change tracking', () => {
    const { session, meta } = lazy({ a: 1 }, true)
    session.set('a', 2)
    session.regenerate()
    const state = getSessionState(session)
    expect(state.meta).toBe(meta)
    // regenerate() resets persistent to the manager default the read carried (false here).
    expect(state.persistent).toBe(false)
    expect(state.regenerated).toBe(true)
    expect(state.changedKeys).toBeUndefined()
    const tracked = lazy({ a: 1 }, true).session
    tracked.set('b', 2)
    expect(getSessionState(tracked).changedKeys).toEqual(new Set(['b']))
  })

  it('starts untouched: reading it is an access, not a modification', () => {
    const { session } = lazy()
    expect(flags(session)).toEqual({ modified: false, accessed: false })
    session.get('a')
    expect(flags(session)).toEqual({ modified: false, accessed: true })
  })

  it('keeps a watcher set while unread: the first change after the read is reported', () => {
    const { session } = lazy()
    const changed = vi.fn()
    watchSession(session, { sessionChanged: changed })
    session.get('a')
    expect(changed).not.toHaveBeenCalled()
    session.set('a', 2)
    expect(changed).toHaveBeenCalledTimes(1)
  })

  it('keeps a holder given at creation: regenerate(callback) hands it a new session', async () => {
    const replaced: Session[] = []
    const session = openLazySession(
      { openSession: () => openSession({ user: 'ada' }, false, {}, false, false) },
      { sessionReplaced: (next) => void replaced.push(next) },
    )
    await new Promise<void>((resolve) => session.regenerate(() => resolve()))
    expect(replaced).toHaveLength(1)
    expect(replaced[0]?.size).toBe(0)
    expect(session.get('user')).toBe('ada')
    expect(() => session.set('user', 'eve')).toThrow(/read req\.session again/)
  })

  it('a source that throws throws on every use, until one succeeds', () => {
    let ready = false
    const session = openLazySession({
      openSession: () => {
        if (!ready) throw new TypeError('not loaded yet')
        return openSession({ a: 1 }, false, {}, false, false)
      },
    })
    expect(() => session.get('a')).toThrow(/not loaded yet/)
    expect(() => session.size).toThrow(/not loaded yet/)
    expect(isSessionUnread(session)).toBe(true)
    ready = true
    expect(session.get('a')).toBe(1)
  })

  it.each<[string, () => unknown]>([
    ['a plain object', () => ({ a: 1 })],
    ['another lazy session', () => openLazySession({ openSession: () => createSession() })],
  ])('a source that returns %s is refused with a TypeError', (_, result) => {
    const session = openLazySession({ openSession: result as () => Session })
    expect(() => session.get('a')).toThrow(TypeError)
    expect(() => session.get('a')).toThrow(/must return a session read by the manager/)
  })
})

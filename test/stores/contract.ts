/**
 * The contract every SessionStore keeps, as one suite run over every configuration: the memory
 * store, the Redis store on each client, and the express-session wrapper on real stores.
 *
 * Tests run concurrently (each on a fresh harness: its own store, prefix or instance), so the
 * real-time TTL waits of a Redis store overlap instead of adding up.
 */
import { randomBytes } from 'node:crypto'
import { describe, it } from 'vitest'
import type { SessionStore, StoreChange } from '../../src/stores/store.js'

/** One store to test, fresh for each test. */
export interface StoreHarness {
  store: SessionStore
  /** Lets `ms` pass for the store's TTLs: a fake clock moved on, or real time for a server's. */
  elapse(ms: number): Promise<void>
}

export interface ContractOptions {
  /**
   * Whether save is atomic. true for the native stores: concurrent saves of different fields both
   * land. false for the express-session wrapper: the test then shows the lost update instead.
   */
  atomic: boolean
}

/** A session id like the manager's: 128 random bits in base64url. */
export function newId(): string {
  return randomBytes(16).toString('base64url')
}

/** A null-prototype record of `entries`, as the manager builds `set` (so `__proto__` is a field). */
export function fields(entries: ReadonlyArray<readonly [string, string]>): Record<string, string> {
  const record = Object.create(null) as Record<string, string>
  for (const [name, value] of entries) record[name] = value
  return record
}

/** A change with defaults: nothing set or removed, one hour, an update. */
export function change(overrides: Partial<StoreChange> = {}): StoreChange {
  return { set: fields([]), remove: [], ttl: 3600, create: false, ...overrides }
}

/** A session's fields in a comparable form (sorted entries; prototypes and own-key order aside). */
export function sorted(record: Record<string, string> | undefined): Array<[string, string]> | undefined {
  return record === undefined ? undefined : Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Names that collide with something somewhere: prototypes, the Redis layout, separators. */
const HOSTILE: Array<[string, string]> = [
  ['__proto__', 'proto'],
  ['constructor', 'ctor'],
  ['hasOwnProperty', 'own'],
  ['toString', 'str'],
  ['', 'empty name'],
  ['a:b', 'colon'],
  ['with space', 'space'],
  ['v', 'the Redis marker name'],
  ['d:', 'the Redis data prefix'],
  ['d:x', 'prefixed'],
  ['frasco', 'the wrapper key'],
  ['cookie', 'express'],
  ['héllo wörld 🍕', 'unicode name'],
  ['empty value', ''],
  ['newlines', 'a\r\nb\n'],
  ['unicode value', 'ünïcødé 🍕 \u0000 nul'],
  ['long', 'x'.repeat(20_000)],
]

/** Registers the contract suite for one configuration; `harness` is called once per test. */
export function describeStoreContract(name: string, harness: () => StoreHarness, options: ContractOptions): void {
  describe.concurrent(`${name}: the SessionStore contract`, () => {
    describeBasics(harness)
    describeLifetimes(harness)
    describeHostileInput(harness)
    describeUsers(harness)
    describeConcurrency(harness, options)
  })
}

function describeBasics(harness: () => StoreHarness): void {
  it('load of a missing session resolves undefined', async ({ expect }) => {
    expect(await harness().store.load(newId())).toBeUndefined()
  })

  it('create then load gives the fields, in a null-prototype object', async ({ expect }) => {
    const { store } = harness()
    const id = newId()
    expect(await store.save(id, change({ create: true, set: fields([['a', '1'], ['b', '"two"']]) }))).toBe(true)
    const loaded = await store.load(id)
    expect(sorted(loaded)).toEqual([['a', '1'], ['b', '"two"']])
    expect(Object.getPrototypeOf(loaded)).toBeNull()
  })

  it('an update sets and removes fields, keeping the others', async ({ expect }) => {
    const { store } = harness()
    const id = newId()
    await store.save(id, change({ create: true, set: fields([['a', '1'], ['b', '2'], ['c', '3']]) }))
    expect(await store.save(id, change({ set: fields([['b', '20'], ['d', '4']]), remove: ['a', 'never-set'] }))).toBe(true)
    expect(sorted(await store.load(id))).toEqual([['b', '20'], ['c', '3'], ['d', '4']])
  })

  it('a session with no fields exists: {} not undefined, also once its last field is removed', async ({ expect }) => {
    const { store } = harness()
    const empty = newId()
    await store.save(empty, change({ create: true }))
    expect(sorted(await store.load(empty))).toEqual([])
    const emptied = newId()
    await store.save(emptied, change({ create: true, set: fields([['only', '1']]) }))
    expect(await store.save(emptied, change({ remove: ['only'] }))).toBe(true)
    expect(sorted(await store.load(emptied))).toEqual([])
    expect(await store.save(emptied, change({ set: fields([['back', '1']]) }))).toBe(true)
  })

  it('create writes whatever exists: the old fields are gone', async ({ expect }) => {
    const { store } = harness()
    const id = newId()
    await store.save(id, change({ create: true, set: fields([['old', '1']]) }))
    expect(await store.save(id, change({ create: true, set: fields([['new', '2']]) }))).toBe(true)
    expect(sorted(await store.load(id))).toEqual([['new', '2']])
  })

  it('an update of a missing session writes nothing and resolves false', async ({ expect }) => {
    const { store } = harness()
    const id = newId()
    expect(await store.save(id, change({ set: fields([['a', '1']]) }))).toBe(false)
    expect(await store.load(id)).toBeUndefined()
  })

  it('an update after a destroy (a slow request) does not bring the session back', async ({ expect }) => {
    const { store } = harness()
    const id = newId()
    await store.save(id, change({ create: true, set: fields([['user', '"ada"']]), user: 'ada' }))
    await store.destroy(id)
    expect(await store.save(id, change({ set: fields([['cart', '[]']]), user: 'ada' }))).toBe(false)
    expect(await store.load(id)).toBeUndefined()
  })

  it('destroy is idempotent, and touches only its session', async ({ expect }) => {
    const { store } = harness()
    const [id, other] = [newId(), newId()]
    await store.destroy(id)
    await store.save(id, change({ create: true }))
    await store.save(other, change({ create: true, set: fields([['keep', '1']]) }))
    await store.destroy(id)
    await store.destroy(id)
    expect(await store.load(id)).toBeUndefined()
    expect(sorted(await store.load(other))).toEqual([['keep', '1']])
  })
}

function describeLifetimes(harness: () => StoreHarness): void {
  it('a session expires after its TTL: gone, and an update no longer writes it', async ({ expect }) => {
    const { store, elapse } = harness()
    const id = newId()
    await store.save(id, change({ create: true, ttl: 1, set: fields([['a', '1']]) }))
    expect(sorted(await store.load(id))).toEqual([['a', '1']])
    await elapse(1100)
    expect(await store.load(id)).toBeUndefined()
    expect(await store.save(id, change({ set: fields([['a', '2']]) }))).toBe(false)
    expect(await store.load(id)).toBeUndefined()
  })

  it('each save resets the TTL to its own', async ({ expect }) => {
    const { store, elapse } = harness()
    const id = newId()
    await store.save(id, change({ create: true, ttl: 1 }))
    expect(await store.save(id, change({ ttl: 60, set: fields([['a', '1']]) }))).toBe(true)
    await elapse(1100)
    expect(sorted(await store.load(id))).toEqual([['a', '1']])
  })
}

function describeHostileInput(harness: () => StoreHarness): void {
  it('field names and values are kept exactly, whatever they collide with', async ({ expect }) => {
    const { store } = harness()
    const id = newId()
    await store.save(id, change({ create: true, set: fields(HOSTILE) }))
    const loaded = await store.load(id)
    expect(sorted(loaded)).toEqual(sorted(fields(HOSTILE)))
    expect(Object.getPrototypeOf(loaded)).toBeNull()
    await store.save(id, change({ remove: ['__proto__', '', 'v', 'd:x'] }))
    const names = Object.keys((await store.load(id)) ?? {})
    expect(names).not.toContain('__proto__')
    expect(names).not.toContain('')
    expect(names).toHaveLength(HOSTILE.length - 4)
  })

  it.each<[what: string, id: unknown, change: unknown]>([
    ['an empty id', '', change({ create: true })],
    ['an id over 256 characters', 'i'.repeat(257), change({ create: true })],
    ['an id that is not a string', 42, change({ create: true })],
    ['a TTL of 0', newId(), change({ ttl: 0 })],
    ['a TTL in milliseconds', newId(), change({ ttl: 86_400_000 * 400 })],
    ['a fractional TTL', newId(), change({ ttl: 1.5 })],
    ['a field both set and removed', newId(), change({ set: fields([['a', '1']]), remove: ['a'] })],
    ['a value that is not a string', newId(), change({ set: { a: 1 } as unknown as Record<string, string> })],
    ['a lone surrogate in a name', newId(), change({ set: fields([['\uD800', '1']]) })],
    ['a lone surrogate in a value', newId(), change({ set: fields([['a', 'x\uDC00']]) })],
    ['an empty user', newId(), change({ user: '' })],
    ['create that is not a boolean', newId(), { ...change(), create: 'yes' }],
    ['no change at all', newId(), undefined],
  ])('save rejects %s with a TypeError', async (_what, id, bad) => {
    await expectTypeError(harness().store.save(id as string, bad as StoreChange))
  })

  it('load, destroy and destroyUser reject invalid arguments with a TypeError', async () => {
    const { store } = harness()
    await expectTypeError(store.load(''))
    await expectTypeError(store.destroy(undefined as unknown as string))
    await expectTypeError(store.destroyUser(''))
  })
}

async function expectTypeError(promise: Promise<unknown>): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  if (!(error instanceof TypeError) || !/ is invalid: /.test(error.message)) throw new Error(`expected a TypeError "… is invalid: …", got ${String(error)}`)
}

function describeUsers(harness: () => StoreHarness): void {
  it('destroyUser deletes every session of the user and only those, resolving how many existed', async ({ expect }) => {
    const { store } = harness()
    const [ada1, ada2, adaLater, adaGone, bob, adaColon, anonymous] = [newId(), newId(), newId(), newId(), newId(), newId(), newId()]
    await store.save(ada1, change({ create: true, user: 'ada' }))
    await store.save(ada2, change({ create: true, set: fields([['a', '1']]), user: 'ada' }))
    // A session that logs in later (an update names the user) is indexed too.
    await store.save(adaLater, change({ create: true }))
    await store.save(adaLater, change({ user: 'ada' }))
    // A session destroyed already is not counted.
    await store.save(adaGone, change({ create: true, user: 'ada' }))
    await store.destroy(adaGone)
    await store.save(bob, change({ create: true, user: 'bob' }))
    await store.save(adaColon, change({ create: true, user: 'ada:admin' }))
    await store.save(anonymous, change({ create: true }))

    expect(await store.destroyUser('ada')).toBe(3)
    for (const id of [ada1, ada2, adaLater, adaGone]) expect(await store.load(id)).toBeUndefined()
    for (const id of [bob, adaColon, anonymous]) expect(await store.load(id)).toEqual({})
    expect(await store.destroyUser('ada')).toBe(0)
    expect(await store.destroyUser('nobody')).toBe(0)
    expect(await store.destroyUser('bob')).toBe(1)
  })

  it('a session the user logs in to again after destroyUser is indexed afresh', async ({ expect }) => {
    const { store } = harness()
    const [before, after] = [newId(), newId()]
    await store.save(before, change({ create: true, user: 'eve' }))
    expect(await store.destroyUser('eve')).toBe(1)
    await store.save(after, change({ create: true, user: 'eve' }))
    expect(await store.destroyUser('eve')).toBe(1)
    expect(await store.load(after)).toBeUndefined()
  })
}

function describeConcurrency(harness: () => StoreHarness, options: ContractOptions): void {
  /** Two saves of one session at once; resolves what each returned and what the session holds. */
  const concurrent = async (store: SessionStore): Promise<{ written: boolean[]; landed: Array<[string, string]> | undefined }> => {
    const id = newId()
    await store.save(id, change({ create: true, set: fields([['base', '0']]) }))
    const written = await Promise.all([
      store.save(id, change({ set: fields([['a', '1']]) })),
      store.save(id, change({ set: fields([['b', '2']]) })),
    ])
    return { written, landed: sorted(await store.load(id)) }
  }

  if (options.atomic) {
    it('concurrent saves of different fields of one session both land', async ({ expect }) => {
      expect(await concurrent(harness().store)).toEqual({ written: [true, true], landed: [['a', '1'], ['b', '2'], ['base', '0']] })
    })
  } else {
    it('concurrent saves of different fields lose one (documented: read-modify-write is not atomic)', async ({ expect }) => {
      // Both saves read the session before either writes it back: the last write wins.
      const { written, landed } = await concurrent(harness().store)
      expect(written).toEqual([true, true])
      expect(landed).toHaveLength(2)
      expect([[['a', '1'], ['base', '0']], [['b', '2'], ['base', '0']]]).toContainEqual(landed)
    })
  }
}

import { it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { createSessions } from '../../src/sessions.js'
import { createMemoryStore } from '../../src/stores/memory.js'
import { parse } from '../../src/serializer.js'
const secrets = [randomBytes(32).toString('base64url')]
it('scratch', async () => {
  for (const g of ['not json', '{', '', '"\\ud800"', '{"$t":1}', '[1,', '1e999', '{"a":1}{']) {
    try { console.log(JSON.stringify(g), parse(g)) } catch (e) { console.log(JSON.stringify(g), (e as any).constructor.name, (e as any).code, (e as Error).message) }
  }
  let now = Date.parse('2030-01-01T00:00:00Z')
  const clock = () => now
  const store = createMemoryStore({ clock })
  const s = createSessions({ secrets, revocation: store, idleTimeout: 600, clock, onInvalid: (e) => console.log('invalid', e.code) })
  const a = await s.load(undefined); a.set('u', 1)
  let c = (await s.save(a)).setCookie[0]!.split(';')[0]!
  now += 300_000
  const b = await s.load(c); b.get('u'); const r = await s.save(b); console.log('at 300', r.setCookie.length, b.isNew)
  c = r.setCookie[0]!.split(';')[0]!
  now += 400_000
  const d = await s.load(c); console.log('at 700', d.isNew, s.invalidReason(d)?.code)
})

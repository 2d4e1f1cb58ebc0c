/**
 * The types of `frasco/koa` as a user gets them: each program below is a small Koa app importing
 * the built package (so run `npx tsc -p tsconfig.build.json` first; `npm test` builds), compiled
 * under the repository's strict settings. Importing `frasco/koa` types `ctx.session` on Koa's
 * DefaultContext; `declare module 'frasco/koa'` says what it holds. Every `@ts-expect-error` line
 * must stay an error. Each app is a program of its own: the declarations change global types.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { Snippet } from '../docs/snippets.js'
import { typecheck, type Problem } from '../docs/typecheck.js'

const apps: Record<string, string> = {
  typed: `
import Koa, { type DefaultState } from 'koa'
import { createSessions, csrfToken } from 'frasco'
import { commitSession, sessionMiddleware, type KoaSessionContext } from 'frasco/koa'

type Data = { username: string; visits: number }
declare module 'frasco/koa' {
  interface KoaSessionData extends Data {}
}

const sessions = createSessions<Data>({ secrets: 'a-secret-of-at-least-32-characters-long' })
const app = new Koa()
app.use(sessionMiddleware(sessions, { csrf: { header: 'x-xsrf-token' }, onError: (error, ctx) => console.warn(error, ctx.path) }))
app.use(async (ctx, next) => {
  const name: string | undefined = ctx.session.username
  const visits: number | undefined = ctx.session.get('visits')
  ctx.session.visits = (visits ?? 0) + 1
  // @ts-expect-error visits holds a number
  ctx.session.visits = 'many'
  // @ts-expect-error email is not in KoaSessionData
  ctx.session.get('email')
  ctx.body = \`\${name} \${csrfToken(ctx.session)}\`
  await next()
})
app.use(async (ctx) => {
  ctx.session = null
  ctx.session = undefined
  // @ts-expect-error koa-session's ctx.session = { … } has no equivalent: regenerate() and set keys
  ctx.session = { username: 'mallory' }
  await commitSession(ctx)
  ctx.respond = false
})

// An app with a context type of its own takes the middleware; extending KoaSessionContext types ctx.session there.
interface AppContext extends KoaSessionContext {
  requestId: string
}
const typed = new Koa<DefaultState, AppContext>()
typed.use(sessionMiddleware(sessions))
typed.use(async (ctx) => {
  const name: string | undefined = ctx.session.username
  ctx.body = \`\${ctx.requestId} \${name}\`
})
new Koa<{ user: string }, { requestId: string }>().use(sessionMiddleware(sessions))
`,
  untyped: `
import Koa from 'koa'
import type { Session } from 'frasco'
import { createSessions } from 'frasco'
import { createMemoryStore } from 'frasco/stores'
import { sessionMiddleware, type KoaSession } from 'frasco/koa'

// Until KoaSessionData declares a key, ctx.session is an untyped Session; store-backed managers fit too.
const app = new Koa()
app.use(sessionMiddleware(createSessions({ secrets: 'a-secret-of-at-least-32-characters-long', store: createMemoryStore() })))
app.use(async (ctx) => {
  const session: Session = ctx.session
  const same: KoaSession = session
  ctx.session.anything = 1
  ctx.body = String(same.get('whatever'))
  // @ts-expect-error sessionMiddleware has no trustProxy: Koa's app.proxy decides
  sessionMiddleware(createSessions({ secrets: 'a-secret-of-at-least-32-characters-long' }), { trustProxy: true })
})
`,
}

const snippets: Snippet[] = Object.entries(apps).map(([name, code]) => ({ file: `test/koa-types/${name}`, line: 1, info: 'ts', code }))
let problems: Problem[] = []

beforeAll(() => {
  problems = typecheck(snippets)
}, 60_000)

describe('frasco/koa types ctx.session in a strict Koa app', () => {
  it.each(snippets.map((snippet) => snippet.file))('%s compiles, and its expected errors stay errors', (file) => {
    expect(problems.filter((problem) => problem.where.startsWith(`${file}:`)).map((p) => `${p.where}: ${p.message}`)).toEqual([])
  })

  it('reports nothing outside the apps', () => {
    expect(problems.filter((problem) => !snippets.some((snippet) => problem.where.startsWith(`${snippet.file}:`)))).toEqual([])
  })

  it('turns a wrong use into an error (the check is not vacuous)', () => {
    const wrong: Snippet = { file: 'test/koa-types/wrong', line: 1, info: 'ts', code: apps.typed!.replace('// @ts-expect-error visits holds a number\n', '') }
    expect(typecheck([wrong]).map((problem) => problem.message).join('\n')).toMatch(/TS2322/)
  })
})

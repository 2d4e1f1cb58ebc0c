/**
 * `frasco/node/globals`, the one way to type `req.session`: each program below is a small app that
 * imports it from the built package (as a user does) and declares its session data. They compile
 * under the repository's strict settings, and every `@ts-expect-error` line must stay an error.
 * Each app is a program of its own: the import changes a global type (which is also why the
 * repository's own tsconfig.json leaves src/adapters/globals.ts out).
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { Snippet } from './docs/snippets.js'
import { typecheck, type Problem } from './docs/typecheck.js'

const apps: Record<string, string> = {
  express: `
import express from 'express'
import type { IncomingMessage } from 'node:http'
import { createSessions } from 'frasco'
import { readSession, sessionMiddleware } from 'frasco/node'
import type {} from 'frasco/node/globals'

type Data = { username: string; visits: number }
declare module 'frasco/node/globals' {
  interface RequestSessionData extends Data {}
}

const sessions = createSessions<Data>({ secrets: 'a-secret-of-at-least-32-characters-long' })
const app = express()
app.use(sessionMiddleware(sessions))
app.get('/', (req, res) => {
  const name: string | undefined = req.session.username
  const visits: number | undefined = req.session.get('visits')
  req.session.visits = (visits ?? 0) + 1
  // @ts-expect-error visits holds a number
  req.session.visits = 'many'
  // @ts-expect-error email is not in RequestSessionData
  req.session.get('email')
  const queued: number = req.flash('info', 'Saved.')
  const formatted: number = req.flash('info', '%s saved %d items', 'ada', 3)
  const several: number = req.flash('info', ['a', 'b'])
  const errors: string[] = req.flash('error')
  const all: Record<string, string[]> = req.flash()
  // @ts-expect-error a message is a string
  req.flash('info', 42)
  const token: string = req.csrfToken()
  res.send([name, queued, formatted, several, errors, all, token].join())
})
app.post('/logout', (req, res) => {
  req.session = null
  req.session = undefined
  // @ts-expect-error req.session cannot be replaced by another value
  req.session = { username: 'mallory' }
  res.redirect(303, '/')
})

// Connect-style, or plain node:http: every IncomingMessage has the same req.session.
export function connectStyle(req: IncomingMessage): string | undefined {
  req.session.regenerate(() => undefined)
  return req.session.get('username')
}
// And it still passes where an IncomingMessage is expected.
export const again = (req: IncomingMessage) => readSession(sessions, req).get('visits')
`,
  untyped: `
import type { IncomingMessage } from 'node:http'
import type {} from 'frasco/node/globals'
import type { RequestSession } from 'frasco/node/globals'
import type { Session } from 'frasco'

// Until RequestSessionData declares a key, req.session is an untyped Session.
export function handler(req: IncomingMessage): unknown {
  const session: Session = req.session
  const same: RequestSession = session
  req.session.anything = 1
  req.session = null
  return same.get('whatever')
}
`,
  'withSessions beside it': `
import { createServer } from 'node:http'
import { createSessions } from 'frasco'
import { withSessions, type SessionRequest } from 'frasco/node'
import type {} from 'frasco/node/globals'

type Data = { cart: string[] }
declare module 'frasco/node/globals' {
  interface RequestSessionData extends Data {}
}

const sessions = createSessions<Data>({ secrets: 'a-secret-of-at-least-32-characters-long' })
createServer(withSessions(sessions, (req, res) => {
  const typed: SessionRequest<Data> = req
  const cart: string[] = req.session.get('cart') ?? []
  req.session = null
  res.end(String(typed.session.size + cart.length))
}))
`,
}

const snippets: Snippet[] = Object.entries(apps).map(([name, code]) => ({
  file: `test/globals/${name.replace(/\W+/g, '-')}`,
  line: 1,
  info: 'ts',
  code,
}))
let problems: Problem[] = []

beforeAll(() => {
  problems = typecheck(snippets)
}, 60_000)

describe('frasco/node/globals types req.session in a strict app', () => {
  it.each(snippets.map((snippet) => snippet.file))('%s compiles, and its expected errors stay errors', (file) => {
    expect(problems.filter((problem) => problem.where.startsWith(`${file}:`)).map((p) => `${p.where}: ${p.message}`)).toEqual([])
  })

  it('reports nothing outside the apps', () => {
    expect(problems.filter((problem) => !snippets.some((snippet) => problem.where.startsWith(`${snippet.file}:`)))).toEqual([])
  })

  it('turns a wrong use into an error (the check is not vacuous)', () => {
    const wrong: Snippet = { file: 'test/globals/wrong', line: 1, info: 'ts', code: apps.express!.replace('// @ts-expect-error visits holds a number\n', '') }
    expect(typecheck([wrong]).map((problem) => problem.message).join('\n')).toMatch(/TS2322/)
  })
})

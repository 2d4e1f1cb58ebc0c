/**
 * The app of test/helpers/stored-app.ts served through frasco/node: sessionMiddleware on Express 5,
 * withSessions on plain node:http in three ways of answering (a body given to `res.end`,
 * `res.writeHead(…).end()`, a streamed body), and readSession/commitSession by hand.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import express from 'express'
import { commitSession, readSession, sessionMiddleware, withSessions, type SessionRequest } from '../../src/adapters/node.js'
import type { Session } from '../../src/session.js'
import { act, type AppData, type Outcome, type RouteContext, type StoreEnv } from './stored-app.js'
import { readBody, startServer, type TestServer } from './server.js'

export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** The node adapter's route context: `req.session`, `req.session = null`, `req.flash`. */
export function nodeContext(env: StoreEnv, req: SessionRequest<AppData>, form: URLSearchParams): RouteContext {
  return {
    sessions: env.sessions,
    session: () => req.session,
    form,
    end: () => {
      req.session = null
    },
    flash: (type, text, ...args) => {
      req.flash(type, text, ...args)
    },
    takeFlash: (type) => req.flash(type),
  }
}

export type NodeStyle = 'end' | 'writeHead' | 'stream'

/** Sends an outcome: with a body to `res.end`, through `writeHead(…).end()`, or streamed in two writes. */
export async function send(res: ServerResponse, outcome: Outcome, style: NodeStyle): Promise<void> {
  const headers: Record<string, string> = outcome.location === undefined ? { 'content-type': 'text/plain' } : { location: outcome.location }
  if (style === 'writeHead' || (style === 'stream' && outcome.location !== undefined)) {
    res.writeHead(outcome.status, headers).end(outcome.body)
    return
  }
  res.statusCode = outcome.status
  for (const [name, value] of Object.entries(headers)) res.setHeader(name, value)
  if (style === 'end') {
    res.end(outcome.body)
    return
  }
  // The headers (and the session cookie) go out with the first write; `end` comes later.
  res.write(outcome.body.slice(0, 1))
  await tick()
  res.end(outcome.body.slice(1))
}

export function startWithSessions(style: NodeStyle) {
  return (env: StoreEnv): Promise<TestServer> =>
    startServer(
      withSessions<AppData>(
        env.sessions,
        async (req, res) => {
          const form = new URLSearchParams(req.method === 'POST' ? await readBody(req as unknown as IncomingMessage) : '')
          const path = new URL(req.url ?? '/', 'http://localhost').pathname
          await send(res, await act(nodeContext(env, req, form), req.method ?? 'GET', path), style)
        },
        { onError: env.onError },
      ),
    )
}

export function startExpress(env: StoreEnv): Promise<TestServer> {
  const app = express()
  app.use(sessionMiddleware(env.sessions, { onError: env.onError }))
  app.use(express.urlencoded({ extended: false }))
  app.use(async (req, res) => {
    const form = new URLSearchParams(req.body as Record<string, string> | undefined)
    const outcome = await act(nodeContext(env, req as unknown as SessionRequest<AppData>, form), req.method, req.path)
    if (outcome.location !== undefined) res.redirect(outcome.status, outcome.location)
    else res.status(outcome.status).type('text').send(outcome.body)
  })
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    env.errors.push(error)
    res.status(500).type('text').send('error page')
  })
  return startServer(app)
}

/** No middleware: `await readSession`, change, `await commitSession`, answer. */
export function startByHand(env: StoreEnv): Promise<TestServer> {
  return startServer((req, res) => {
    void (async () => {
      const form = new URLSearchParams(req.method === 'POST' ? await readBody(req) : '')
      const session: Session<AppData> = await readSession(env.sessions, req)
      const context: RouteContext = {
        sessions: env.sessions,
        session: () => session,
        form,
        end: () => session.destroy(),
        flash: (type, text) => session.flash(text, type),
        takeFlash: (type) => session.consumeFlashes(type).map((flash) => flash.message),
      }
      const outcome = await act(context, req.method ?? 'GET', new URL(req.url ?? '/', 'http://localhost').pathname)
      await commitSession(env.sessions, req, res, session)
      await send(res, outcome, 'end')
    })().catch((error: unknown) => {
      env.errors.push(error)
      res.statusCode = 500
      res.end()
    })
  })
}

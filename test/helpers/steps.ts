/**
 * A server that runs one test-supplied step per request, inside the node adapter: the step gets
 * `req` and `res` (the session on `req.session`), and the response is its result or its error as
 * JSON. One set-up, for `sessionMiddleware` under Express and for `withSessions`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import express from 'express'
import { sessionMiddleware, withSessions, type SessionRequest } from '../../src/adapters/node.js'
import type { Sessions } from '../../src/sessions.js'
import { startServer, type TestServer } from './server.js'

export type Step = (req: SessionRequest, res: ServerResponse) => unknown

export type AppKind = 'sessionMiddleware (Express)' | 'withSessions'

/** What a step's request answered: its result, or the error it threw (`Name: message`). */
export interface StepBody {
  result?: unknown
  error?: string
}

/** Starts the app; `setStep` chooses what the next requests run. */
export async function startStepServer(
  kind: AppKind,
  sessions: Sessions,
  onError?: (error: unknown, req: IncomingMessage) => void,
): Promise<{ server: TestServer; setStep(step: Step): void }> {
  let step: Step = () => undefined
  const respond = async (req: SessionRequest, res: ServerResponse): Promise<void> => {
    let body: StepBody
    try {
      body = { result: await step(req, res) }
    } catch (error) {
      body = { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }
    }
    if (!res.headersSent) res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify(body))
  }
  const options = onError === undefined ? {} : { onError }
  let listener
  if (kind === 'withSessions') {
    listener = withSessions(sessions, respond, options)
  } else {
    const app = express()
    app.use(sessionMiddleware(sessions, options))
    app.get('/', (req, res, next) => {
      respond(req as unknown as SessionRequest, res).catch(next)
    })
    listener = app
  }
  return { server: await startServer(listener), setStep: (next) => void (step = next) }
}

/**
 * `frasco/node`: sessions for `node:http` servers and Connect/Express-style middleware.
 *
 * @module
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import { getSessionState, type Session, type SessionData } from '../session.js'
import type { Sessions } from '../sessions.js'

/** Options of the node adapter. */
export interface NodeSessionOptions {
  /**
   * Trust `X-Forwarded-Proto` from a reverse proxy when deciding `Secure` for `cookie.secure:
   * 'auto'`. Only enable it behind a proxy that sets (and overwrites) that header.
   */
  trustProxy?: boolean
}

/** A request carrying its session, as the middleware leaves it. */
export type SessionRequest<T extends object = SessionData> = IncomingMessage & { session: Session<T> }

/** A plain `node:http` handler that receives a request with a session. */
export type SessionHandler<T extends object = SessionData> = (
  req: SessionRequest<T>,
  res: ServerResponse,
) => unknown

type Next = (error?: unknown) => void

interface RequestState<T extends object> {
  session: Session<T> | undefined
  committed: boolean
}

function isSecure(req: IncomingMessage, trustProxy: boolean): boolean {
  if ((req.socket as TLSSocket | undefined)?.encrypted === true) return true
  if (!trustProxy) return false
  const forwarded = req.headers['x-forwarded-proto']
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',', 1)[0]?.trim().toLowerCase()
  return first === 'https'
}

function appendVary(res: ServerResponse, headers: OutgoingHttpHeaders | undefined): void {
  // Header names are case-insensitive: writeHead(200, { VARY: … }) replaces a Vary set before.
  const key = headers === undefined ? undefined : Object.keys(headers).find((k) => k.toLowerCase() === 'vary')
  const current = headers !== undefined && key !== undefined ? headers[key] : res.getHeader('Vary')
  const text = Array.isArray(current) ? current.join(', ') : current === undefined ? '' : String(current)
  if (text.trim() === '*' || /(^|,)\s*cookie\s*(,|$)/i.test(text)) return
  const value = text.trim() === '' ? 'Cookie' : `${text}, Cookie`
  if (headers !== undefined && key !== undefined) headers[key] = value
  else res.setHeader('Vary', value)
}

/**
 * Reads the session of a request from its `Cookie` header. Never throws on bad input.
 *
 * @example
 * ```ts
 * const session = readSession(sessions, req)
 * ```
 */
export function readSession<T extends object>(sessions: Sessions<T>, req: IncomingMessage): Session<T> {
  return sessions.read(req.headers.cookie)
}

/**
 * Appends the session's `Set-Cookie` headers (never replacing ones already set) and `Vary: Cookie`
 * to a response whose headers have not been sent yet.
 *
 * @throws {CookieTooLarge} when the session does not fit; nothing was appended.
 * @example
 * ```ts
 * commitSession(sessions, req, res, session)
 * res.end('ok')
 * ```
 */
export function commitSession<T extends object>(
  sessions: Sessions<T>,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<T>,
  options: NodeSessionOptions = {},
): void {
  apply(sessions, req, res, session, options.trustProxy === true, undefined)
}

function apply<T extends object>(
  sessions: Sessions<T>,
  req: IncomingMessage,
  res: ServerResponse,
  session: Session<T>,
  trustProxy: boolean,
  headers: OutgoingHttpHeaders | undefined,
): void {
  if (res.headersSent) throw new Error('commitSession: the response headers were already sent')
  const cookies = sessions.commit(session, { secure: sessions.secureAuto && isSecure(req, trustProxy) })
  if (cookies.length > 0) {
    const key = headers === undefined ? undefined : Object.keys(headers).find((k) => k.toLowerCase() === 'set-cookie')
    if (headers !== undefined && key !== undefined) {
      // writeHead(status, { 'Set-Cookie': … }) would replace what we append; merge into it instead.
      const existing = headers[key]
      headers[key] = [...(Array.isArray(existing) ? existing : existing === undefined ? [] : [String(existing)]), ...cookies]
    } else {
      res.appendHeader('Set-Cookie', cookies)
    }
  }
  if (cookies.length > 0 || getSessionState(session).accessed) appendVary(res, headers)
}

function attach<T extends object>(sessions: Sessions<T>, req: IncomingMessage, res: ServerResponse, trustProxy: boolean): void {
  const state: RequestState<T> = { session: undefined, committed: false }

  // Read lazily: a request that never touches req.session costs no HMAC.
  Object.defineProperty(req, 'session', {
    configurable: true,
    enumerable: true,
    get() {
      state.session ??= sessions.read(req.headers.cookie)
      return state.session
    },
    set(value: unknown) {
      // cookie-session's idiom: `req.session = null` ends the session.
      if (value === null || value === undefined) {
        state.session ??= sessions.read(req.headers.cookie)
        state.session.destroy()
        return
      }
      throw new TypeError('req.session cannot be replaced; use req.session.regenerate() or set its keys')
    },
  })

  // Commit just before the headers go out. `end()`, `write()` and `flushHeaders()` without an
  // explicit writeHead all reach writeHead through ServerResponse's implicit header path.
  const writeHead = res.writeHead
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    if (!state.committed) {
      state.committed = true
      if (state.session !== undefined) {
        const index = args.findIndex((a, i) => i > 0 && typeof a === 'object' && a !== null && !Array.isArray(a))
        // Merge into a copy: apps pass one constant headers object to every response, and one
        // user's session cookie must never be left in it for the next response.
        const headers = index === -1 ? undefined : { ...(args[index] as OutgoingHttpHeaders) }
        if (headers !== undefined) args[index] = headers
        const raw = args.find((a, i) => i > 0 && Array.isArray(a)) as unknown[] | undefined
        if (raw !== undefined && raw.length % 2 === 0) {
          // Raw header arrays cannot be merged in place safely; move them onto the response first,
          // as Node would apply them: each name replaces what was set before, and repeats within
          // the array are kept. (An odd-length array is left for Node to reject.)
          for (let i = 0; i < raw.length; i += 2) res.removeHeader(String(raw[i]))
          for (let i = 0; i < raw.length; i += 2) res.appendHeader(String(raw[i]), raw[i + 1] as string)
          args = args.filter((a) => a !== raw)
        }
        apply(sessions, req, res, state.session, trustProxy, headers)
      }
    }
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
  } as ServerResponse['writeHead']
}

/**
 * Connect/Express-style middleware: puts a lazily read session on `req.session` and commits it
 * just before the headers go out, appending to any `Set-Cookie` already set. `req.session.save(cb)`
 * and `req.session.regenerate(cb)` exist, so Passport's login works.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { createSessions } from 'frasco'
 * import { sessionMiddleware } from 'frasco/node'
 *
 * const app = express()
 * app.use(sessionMiddleware(createSessions({ secrets: process.env.FRASCO_SECRETS!.split(',') })))
 * app.get('/', (req, res) => res.send(req.session.username ? `Hi ${req.session.username}` : 'Log in'))
 * ```
 */
export function sessionMiddleware<T extends object = SessionData>(
  sessions: Sessions<T>,
  options: NodeSessionOptions = {},
): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  const trustProxy = validate(options)
  return (req, res, next) => {
    attach(sessions, req, res, trustProxy)
    next()
  }
}

/**
 * Wraps a plain `http.createServer` handler so it receives `req.session`.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http'
 * import { withSessions } from 'frasco/node'
 *
 * createServer(withSessions(sessions, (req, res) => {
 *   req.session.set('visits', (req.session.get('visits') ?? 0) + 1)
 *   res.end(`visit ${req.session.get('visits')}`)
 * })).listen(3000)
 * ```
 */
export function withSessions<T extends object = SessionData>(
  sessions: Sessions<T>,
  handler: SessionHandler<T>,
  options: NodeSessionOptions & { onError?: (error: unknown, req: IncomingMessage) => void } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const trustProxy = validate(options)
  const onError = options.onError ?? defaultOnError
  if (typeof onError !== 'function') throw new TypeError('option onError is invalid: give a function (error, req) => void')
  const fail = (req: IncomingMessage, res: ServerResponse, error: unknown): void => {
    // The handler threw: answer 500 rather than leaving the client hanging or crashing the server.
    if (!res.headersSent) {
      res.statusCode = 500
      res.removeHeader('Set-Cookie')
      res.setHeader('Content-Type', 'text/plain; charset=utf-8')
      res.end('Internal Server Error')
    } else {
      res.destroy()
    }
    try {
      onError(error, req)
    } catch {
      // Reporting must not take the server down either.
    }
  }
  return (req, res) => {
    attach(sessions, req, res, trustProxy)
    let result: unknown
    try {
      result = handler(req as SessionRequest<T>, res)
    } catch (error) {
      fail(req, res, error)
      return
    }
    if (result instanceof Promise) result.catch((error: unknown) => fail(req, res, error))
  }
}

function defaultOnError(error: unknown, req: IncomingMessage): void {
  console.error(`frasco: handler for ${req.method ?? 'GET'} ${req.url ?? '/'} failed:`, error)
}

function validate(options: NodeSessionOptions): boolean {
  if (typeof options !== 'object' || options === null) throw new TypeError('options is invalid: give an object')
  if (options.trustProxy !== undefined && typeof options.trustProxy !== 'boolean') {
    throw new TypeError('option trustProxy is invalid: give true or false')
  }
  return options.trustProxy === true
}

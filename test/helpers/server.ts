/**
 * Shared helpers for the adapter tests: real `node:http` servers on 127.0.0.1 port 0, closed after
 * each test; a small cookie jar that drives them with `fetch` the way a browser would (Set-Cookie
 * applied, deletions and Max-Age honoured); a raw-socket client for headers `fetch` refuses to
 * send; and the glue that serves a Fetch handler over `node:http`.
 */
import { Buffer } from 'node:buffer'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type RequestListener, type Server, type ServerOptions, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https'
import { connect, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach } from 'vitest'

export interface TestServer {
  /** `http://127.0.0.1:<port>` or `https://…` (no trailing slash). */
  readonly origin: string
  readonly port: number
  readonly server: Server
  /** `origin` + `path`. */
  url(path?: string): string
}

const open = new Set<Server>()

/**
 * Starts `listener` on 127.0.0.1, port 0. The server is closed (keep-alive connections included)
 * by {@link closeAllServers}, which {@link useTestServers} runs after each test.
 */
export async function startServer(listener: RequestListener, options: ServerOptions = {}): Promise<TestServer> {
  return listen(createServer(options, listener), 'http')
}

/** Like {@link startServer}, over TLS with the given key and certificate (`https://127.0.0.1:<port>`). */
export async function startHttpsServer(listener: RequestListener, tls: { key: string; cert: string }): Promise<TestServer> {
  return listen(createHttpsServer(tls, listener), 'https')
}

/**
 * A self-signed certificate for 127.0.0.1 made with openssl, or undefined where openssl is missing
 * (the TLS tests then skip).
 */
export function selfSignedCertificate(): { key: string; cert: string } | undefined {
  try {
    const dir = mkdtempSync(join(tmpdir(), 'frasco-tls-'))
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'],
      { stdio: 'ignore' },
    )
    const pair = { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') }
    rmSync(dir, { recursive: true, force: true })
    return pair
  } catch {
    return undefined
  }
}

/** GET over TLS without certificate checks (the test certificate is self-signed); fetch cannot skip them. */
export async function httpsGet(server: TestServer, path: string, headers: Record<string, string> = {}): Promise<{ status: number; setCookies: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpsRequest({ host: '127.0.0.1', port: server.port, path, headers, rejectUnauthorized: false }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        const setCookie = response.headers['set-cookie']
        resolve({ status: response.statusCode ?? 0, setCookies: setCookie ?? [], body: Buffer.concat(chunks).toString('utf8') })
      })
      response.on('error', reject)
    })
    request.on('error', reject)
    request.end()
  })
}

async function listen(server: Server, scheme: 'http' | 'https'): Promise<TestServer> {
  open.add(server)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { port } = server.address() as AddressInfo
  const origin = `${scheme}://127.0.0.1:${port}`
  return { origin, port, server, url: (path = '/') => origin + path }
}

/** Closes every server started by {@link startServer} that is still open. */
export async function closeAllServers(): Promise<void> {
  const servers = [...open]
  open.clear()
  await Promise.all(
    servers.map(
      (server) =>
        new Promise<void>((resolve) => {
          // fetch keeps connections alive; without this, close() would wait for them to time out.
          server.closeAllConnections()
          server.close(() => resolve())
        }),
    ),
  )
}

/** Registers {@link closeAllServers} after each test and after the file. Call it once per test file. */
export function useTestServers(): void {
  afterEach(closeAllServers)
  afterAll(closeAllServers)
}

// -------------------------------------------------------------------------------------------------
// Set-Cookie parsing and a cookie jar
// -------------------------------------------------------------------------------------------------

/** One parsed Set-Cookie header: attribute names lower-cased, flag attributes `true`. */
export interface SetCookie {
  name: string
  value: string
  attributes: Record<string, string | true>
  /** The header as received. */
  raw: string
}

/** Parses a Set-Cookie header value (the server side of the tests is trusted to be well-formed). */
export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...parts] = header.split(';')
  const equals = pair.indexOf('=')
  const attributes: Record<string, string | true> = Object.create(null) as Record<string, string | true>
  for (const part of parts) {
    const index = part.indexOf('=')
    if (index === -1) attributes[part.trim().toLowerCase()] = true
    else attributes[part.slice(0, index).trim().toLowerCase()] = part.slice(index + 1).trim()
  }
  return { name: pair.slice(0, equals).trim(), value: pair.slice(equals + 1).trim(), attributes, raw: header }
}

/** Whether a Set-Cookie header deletes its cookie (Max-Age <= 0 wins over Expires, RFC 6265bis §5.6.2). */
export function isDeletion(cookie: SetCookie, now = Date.now()): boolean {
  const maxAge = cookie.attributes['max-age']
  if (typeof maxAge === 'string') return Number(maxAge) <= 0
  const expires = cookie.attributes.expires
  return typeof expires === 'string' && Date.parse(expires) <= now
}

interface StoredCookie {
  value: string
  /** Milliseconds since the epoch, on the jar's clock; undefined for a browser-session cookie. */
  expiresAt: number | undefined
}

/**
 * A one-origin cookie jar, enough for these tests: cookies keyed by name (every test cookie has
 * `Path=/` and no Domain), deletions and Max-Age honoured against the jar's clock (inject the same
 * clock as the server to move time), browser-session cookies kept until {@link CookieJar.endBrowserSession}.
 */
export class CookieJar {
  readonly #cookies = new Map<string, StoredCookie>()
  readonly #now: () => number
  /** Every Set-Cookie header the jar has seen, oldest first. */
  readonly received: SetCookie[] = []

  constructor(now: () => number = Date.now) {
    this.#now = now
  }

  /** Applies Set-Cookie headers as a browser would. */
  apply(headers: readonly string[]): void {
    const now = this.#now()
    for (const header of headers) {
      const cookie = parseSetCookie(header)
      this.received.push(cookie)
      if (isDeletion(cookie, now)) {
        this.#cookies.delete(cookie.name)
        continue
      }
      const maxAge = cookie.attributes['max-age']
      const expires = cookie.attributes.expires
      const expiresAt =
        typeof maxAge === 'string' ? now + Number(maxAge) * 1000 : typeof expires === 'string' ? Date.parse(expires) : undefined
      this.#cookies.set(cookie.name, { value: cookie.value, expiresAt })
    }
  }

  /** Drops expired cookies and returns the live ones, in insertion order. */
  #live(): Map<string, StoredCookie> {
    const now = this.#now()
    for (const [name, cookie] of this.#cookies) {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) this.#cookies.delete(name)
    }
    return this.#cookies
  }

  get(name: string): string | undefined {
    return this.#live().get(name)?.value
  }

  /** Names of the live cookies, sorted. */
  names(): string[] {
    return [...this.#live().keys()].sort()
  }

  /** Sets a cookie by hand (a browser-session cookie), for replaying or forging values. */
  set(name: string, value: string): void {
    this.#cookies.set(name, { value, expiresAt: undefined })
  }

  delete(name: string): void {
    this.#cookies.delete(name)
  }

  /** Closing the browser drops cookies without an expiry. */
  endBrowserSession(): void {
    for (const [name, cookie] of this.#cookies) if (cookie.expiresAt === undefined) this.#cookies.delete(name)
  }

  /** The Cookie request header, or undefined when the jar is empty. */
  header(): string | undefined {
    const pairs = [...this.#live()].map(([name, cookie]) => `${name}=${cookie.value}`)
    return pairs.length === 0 ? undefined : pairs.join('; ')
  }

  /** `fetch` with this jar: sends its cookies, never follows redirects, applies the response's Set-Cookie. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    const cookie = this.header()
    if (cookie !== undefined && !headers.has('cookie')) headers.set('cookie', cookie)
    const response = await fetch(url, { ...init, headers, redirect: 'manual' })
    this.apply(response.headers.getSetCookie())
    return response
  }
}

/** An `application/x-www-form-urlencoded` POST body, as a browser submits a form. */
export function formPost(fields: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  }
}

/** Reads a node:http request body as text. */
export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

// -------------------------------------------------------------------------------------------------
// A raw HTTP/1.1 client, for request headers fetch refuses to send (control characters)
// -------------------------------------------------------------------------------------------------

export interface RawResponse {
  status: number
  /** Lower-cased names; repeated headers in order. */
  headers: Array<[string, string]>
  body: string
  /** All Set-Cookie values, in order. */
  setCookies: string[]
}

/** Reassembles an HTTP/1.1 chunked body (RFC 9112 §7.1) read off a raw socket. */
export function decodeChunked(body: Buffer): Buffer {
  const parts: Buffer[] = []
  let offset = 0
  for (;;) {
    const lineEnd = body.indexOf('\r\n', offset)
    if (lineEnd === -1) break
    const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16)
    if (!(size > 0)) break
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size))
    offset = lineEnd + 2 + size + 2
  }
  return Buffer.concat(parts)
}

/**
 * Sends one GET with the given extra header lines exactly as written (latin1 bytes) and reads the
 * whole response. The server must accept what fetch would refuse, e.g. `insecureHTTPParser: true`
 * for control characters.
 */
export async function rawGet(server: TestServer, path: string, headerLines: readonly string[]): Promise<RawResponse> {
  const socket = connect(server.port, '127.0.0.1')
  const request = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${server.port}`, 'Connection: close', ...headerLines, '', ''].join('\r\n')
  socket.end(Buffer.from(request, 'latin1'))
  const chunks: Buffer[] = []
  socket.on('data', (chunk: Buffer) => chunks.push(chunk))
  await new Promise<void>((resolve, reject) => {
    socket.on('close', () => resolve())
    socket.on('error', reject)
  })
  const data = Buffer.concat(chunks)
  const split = data.indexOf('\r\n\r\n')
  const head = data.subarray(0, split).toString('latin1').split('\r\n')
  const status = Number((head[0] ?? '').split(' ')[1])
  const headers = head.slice(1).map((line): [string, string] => {
    const colon = line.indexOf(':')
    return [line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]
  })
  const rawBody = data.subarray(split + 4)
  const chunked = headers.some(([name, value]) => name === 'transfer-encoding' && /chunked/i.test(value))
  const body = (chunked ? decodeChunked(rawBody) : rawBody).toString('utf8')
  return { status, headers, body, setCookies: headers.filter(([name]) => name === 'set-cookie').map(([, value]) => value) }
}

// -------------------------------------------------------------------------------------------------
// Serving a Fetch handler over node:http
// -------------------------------------------------------------------------------------------------

/** Converts a node:http request into a Fetch `Request` (body buffered). */
export async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers()
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string)
  const method = req.method ?? 'GET'
  const init: RequestInit = { method, headers }
  if (method !== 'GET' && method !== 'HEAD') {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    init.body = Buffer.concat(chunks)
  }
  return new Request(new URL(req.url ?? '/', origin), init)
}

/** Writes a Fetch `Response` to a node:http response, each Set-Cookie as its own header line. */
export async function sendResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value)
  })
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  res.end(Buffer.from(await response.arrayBuffer()))
}

/** A node:http listener that serves a Fetch handler. */
export function serveFetch(handler: (request: Request) => Promise<Response>): RequestListener {
  return (req, res) => {
    const origin = `http://${req.headers.host ?? '127.0.0.1'}`
    toRequest(req, origin)
      .then(handler)
      .then((response) => sendResponse(response, res))
      .catch((error: unknown) => {
        res.statusCode = 500
        res.end(String(error))
      })
  }
}

// The app of bench/http-peers.mjs, written once per framework and session library: GET / reads
// `count` from the session, stores count + 1, and answers `count: N` as text. Each framework also
// gets a server without sessions (answering `count: 1`), the reference its session libraries'
// added cost is measured against.
//
// This module lives in bench/peers/ so that the frameworks and the peer libraries resolve from
// bench/peers/node_modules (`cd bench/peers && npm install`), never from the library's own
// package.json. Frasco itself comes from the built package (../../dist). Every import of a
// framework or a peer is dynamic, so a run of one framework loads only what it uses.

import { createHmac, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer } from 'node:http'
import { once } from 'node:events'
import { createHmacFloor } from '../floors.mjs'

/** The frameworks, in the order they run; `store` is Express with server-side sessions in Redis. */
export const FRAMEWORKS = ['node', 'express', 'fastify', 'koa', 'hono', 'store']

/** The cookie lifetime every side is given where the library takes one: 14 days. */
const MAX_AGE = 14 * 24 * 3600
const TEXT = { 'Content-Type': 'text/plain; charset=utf-8' }

/** The version of a package installed in bench/peers (or of Frasco, at the repository root). */
export function versionOf(name) {
  const path = name === 'frasco' ? new URL('../../package.json', import.meta.url) : new URL(`./node_modules/${name}/package.json`, import.meta.url)
  return JSON.parse(readFileSync(path, 'utf8')).version
}

/** Listens on 127.0.0.1, port 0, with keep-alive connections held as long as a run lasts. */
async function listen(handler) {
  const server = createServer(handler)
  server.keepAliveTimeout = 30_000
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: server.address().port,
    close: async () => {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

function next(count) {
  // Whatever the session holds, the counter goes up by one (a missing or damaged one starts at 1).
  const n = Number(count)
  return (Number.isSafeInteger(n) && n >= 0 ? n : 0) + 1
}

async function frascoSessions(options = {}) {
  const { createSessions } = await import('../../dist/index.js')
  return createSessions({ secrets: [options.secret], lifetime: MAX_AGE, persistent: true, ...options.extra })
}

// ---------------------------------------------------------------------------------------------
// node:http

async function nodeSides({ secret }) {
  const floor = createHmacFloor(Buffer.from(secret, 'base64url'))
  const floorAttributes = `; Path=/; Max-Age=${MAX_AGE}; HttpOnly; SameSite=Lax`
  return [
    {
      id: 'bare',
      library: 'no sessions',
      start: () =>
        listen((req, res) => {
          res.writeHead(200, TEXT)
          res.end('count: 1')
        }),
    },
    {
      id: 'frasco',
      library: 'Frasco withSessions',
      start: async () => {
        const { withSessions } = await import('../../dist/adapters/node.js')
        const sessions = await frascoSessions({ secret })
        return listen(
          withSessions(sessions, (req, res) => {
            const count = next(req.session.get('count'))
            req.session.set('count', count)
            res.writeHead(200, TEXT)
            res.end(`count: ${count}`)
          }),
        )
      },
    },
    {
      id: 'iron-session',
      library: 'iron-session',
      package: 'iron-session',
      start: async () => {
        const { getIronSession } = await import('iron-session')
        // iron-session wants a password of at least 32 characters; its cookie is Secure by default.
        const options = { password: secret, cookieName: 'session', ttl: MAX_AGE }
        return listen(async (req, res) => {
          try {
            const session = await getIronSession(req, res, options)
            const count = next(session.count)
            session.count = count
            await session.save()
            res.writeHead(200, TEXT)
            res.end(`count: ${count}`)
          } catch (error) {
            res.writeHead(500, TEXT)
            res.end(String(error))
          }
        })
      },
    },
    {
      id: 'floor',
      library: 'floor session (hand-written)',
      start: () =>
        listen((req, res) => {
          // The least a signed-cookie session does: verify and parse the cookie, write the new
          // one, and say that the response depends on the Cookie header.
          const data = floor.read(req.headers.cookie) ?? {}
          const count = next(data.count)
          data.count = count
          res.setHeader('Set-Cookie', `session=${floor.encode(data)}${floorAttributes}`)
          res.setHeader('Vary', 'Cookie')
          res.writeHead(200, TEXT)
          res.end(`count: ${count}`)
        }),
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// Express 5 (also the framework of the store group)

async function expressApp(use, handler) {
  const { default: express } = await import('express')
  const app = express()
  if (use !== undefined) app.use(use)
  app.get('/', handler)
  return listen(app)
}

const expressBare = {
  id: 'bare',
  library: 'no sessions',
  start: () => expressApp(undefined, (req, res) => res.send('count: 1')),
}

async function frascoExpress(sessions) {
  const { sessionMiddleware } = await import('../../dist/adapters/node.js')
  return expressApp(sessionMiddleware(sessions), (req, res) => {
    const count = next(req.session.get('count'))
    req.session.set('count', count)
    res.send(`count: ${count}`)
  })
}

async function expressSession(store, secret) {
  const { default: session } = await import('express-session')
  const options = { secret, name: 'session', resave: false, saveUninitialized: false, cookie: { maxAge: MAX_AGE * 1000 } }
  if (store !== undefined) options.store = store
  return expressApp(session(options), (req, res) => {
    const count = next(req.session.count)
    req.session.count = count
    res.send(`count: ${count}`)
  })
}

async function expressSides({ secret }) {
  return [
    expressBare,
    {
      id: 'frasco',
      library: 'Frasco sessionMiddleware',
      start: async () => frascoExpress(await frascoSessions({ secret })),
    },
    {
      id: 'cookie-session',
      library: 'cookie-session',
      package: 'cookie-session',
      start: async () => {
        const { default: cookieSession } = await import('cookie-session')
        return expressApp(cookieSession({ name: 'session', keys: [secret], maxAge: MAX_AGE * 1000 }), (req, res) => {
          const count = next(req.session.count)
          req.session.count = count
          res.send(`count: ${count}`)
        })
      },
    },
    {
      id: 'express-session',
      library: 'express-session (MemoryStore)',
      package: 'express-session',
      stateful: true,
      start: () => expressSession(undefined, secret),
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// Fastify 5

async function fastifyApp(register, handler) {
  const { default: Fastify } = await import('fastify')
  const app = Fastify({ keepAliveTimeout: 30_000 })
  await register?.(app)
  app.get('/', handler)
  await app.listen({ port: 0, host: '127.0.0.1' })
  return {
    port: app.server.address().port,
    close: async () => {
      app.server.closeAllConnections()
      await app.close()
    },
  }
}

async function fastifySides({ secret }) {
  return [
    { id: 'bare', library: 'no sessions', start: () => fastifyApp(undefined, async () => 'count: 1') },
    {
      id: 'frasco',
      library: 'Frasco sessionPlugin',
      start: async () => {
        const { sessionPlugin } = await import('../../dist/adapters/fastify.js')
        const sessions = await frascoSessions({ secret })
        return fastifyApp(
          (app) => app.register(sessionPlugin, { sessions }),
          async (request) => {
            const count = next(request.session.get('count'))
            request.session.set('count', count)
            return `count: ${count}`
          },
        )
      },
    },
    {
      id: '@fastify/secure-session',
      library: '@fastify/secure-session',
      package: '@fastify/secure-session',
      start: async () => {
        const { default: secureSession } = await import('@fastify/secure-session')
        // A 32-byte secretbox key derived from the same secret.
        const key = createHmac('sha256', secret).update('secure-session').digest()
        return fastifyApp(
          (app) => app.register(secureSession, { key, cookieName: 'session', cookie: { path: '/', httpOnly: true, maxAge: MAX_AGE } }),
          async (request) => {
            const count = next(request.session.get('count'))
            request.session.set('count', count)
            return `count: ${count}`
          },
        )
      },
    },
    {
      id: '@fastify/session',
      library: '@fastify/session (MemoryStore)',
      package: '@fastify/session',
      stateful: true,
      start: async () => {
        const { default: fastifyCookie } = await import('@fastify/cookie')
        const { default: fastifySession } = await import('@fastify/session')
        return fastifyApp(
          async (app) => {
            await app.register(fastifyCookie)
            await app.register(fastifySession, {
              secret,
              cookieName: 'session',
              saveUninitialized: false,
              cookie: { secure: false, maxAge: MAX_AGE * 1000 },
            })
          },
          async (request) => {
            const count = next(request.session.get('count'))
            request.session.set('count', count)
            return `count: ${count}`
          },
        )
      },
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// Koa 3

async function koaApp(setup, handler) {
  const { default: Koa } = await import('koa')
  const app = new Koa()
  await setup?.(app)
  app.use(handler)
  return listen(app.callback())
}

async function koaSides({ secret }) {
  return [
    {
      id: 'bare',
      library: 'no sessions',
      start: () =>
        koaApp(undefined, (ctx) => {
          ctx.body = 'count: 1'
        }),
    },
    {
      id: 'frasco',
      library: 'Frasco sessionMiddleware',
      start: async () => {
        const { sessionMiddleware } = await import('../../dist/adapters/koa.js')
        const sessions = await frascoSessions({ secret })
        return koaApp(
          (app) => app.use(sessionMiddleware(sessions)),
          (ctx) => {
            const count = next(ctx.session.get('count'))
            ctx.session.set('count', count)
            ctx.body = `count: ${count}`
          },
        )
      },
    },
    {
      id: 'koa-session',
      library: 'koa-session',
      package: 'koa-session',
      start: async () => {
        const { default: session } = await import('koa-session')
        return koaApp(
          (app) => {
            // The session JSON in the cookie (base64), signed with keygrip in a second `.sig` cookie.
            app.keys = [secret]
            app.use(session({ key: 'session', maxAge: MAX_AGE * 1000, signed: true }, app))
          },
          (ctx) => {
            const count = next(ctx.session.count)
            ctx.session.count = count
            ctx.body = `count: ${count}`
          },
        )
      },
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// Hono 4, served by @hono/node-server

async function honoApp(setup) {
  const { Hono } = await import('hono')
  const { getRequestListener } = await import('@hono/node-server')
  const app = new Hono()
  await setup(app)
  return listen(getRequestListener(app.fetch))
}

async function honoSides({ secret }) {
  return [
    { id: 'bare', library: 'no sessions', start: () => honoApp((app) => app.get('/', (c) => c.text('count: 1'))) },
    {
      id: 'frasco',
      library: 'Frasco sessionMiddleware',
      start: async () => {
        const { sessionMiddleware } = await import('../../dist/adapters/hono.js')
        const sessions = await frascoSessions({ secret })
        return honoApp((app) => {
          app.use(sessionMiddleware(sessions))
          app.get('/', (c) => {
            const session = c.get('session')
            const count = next(session.get('count'))
            session.set('count', count)
            return c.text(`count: ${count}`)
          })
        })
      },
    },
    {
      id: 'hono-signed-cookie',
      library: 'hono/cookie signed cookies',
      package: 'hono',
      start: async () => {
        const { getSignedCookie, setSignedCookie } = await import('hono/cookie')
        return honoApp((app) =>
          app.get('/', async (c) => {
            // Hono signs a string (HMAC-SHA256 through WebCrypto); the session is JSON in it.
            const raw = await getSignedCookie(c, secret, 'session')
            let data = {}
            if (typeof raw === 'string') {
              try {
                data = JSON.parse(raw)
              } catch {}
            }
            const count = next(data?.count)
            await setSignedCookie(c, 'session', JSON.stringify({ ...data, count }), secret, { path: '/', httpOnly: true, sameSite: 'Lax', maxAge: MAX_AGE })
            return c.text(`count: ${count}`)
          }),
        )
      },
    },
  ]
}

// ---------------------------------------------------------------------------------------------
// Store mode: Express 5 with the session in Redis (a node-redis client per side, one server)

async function storeSides({ secret, redisUrl }) {
  if (redisUrl === undefined) throw new Error('the store group needs a Redis server')
  const { createClient } = await import('redis')
  const client = async () => {
    const redis = createClient({ url: redisUrl })
    redis.on('error', (error) => console.error('redis client:', error))
    await redis.connect()
    return redis
  }
  const withClient = async (start) => {
    const redis = await client()
    const server = await start(redis)
    return {
      port: server.port,
      close: async () => {
        await server.close()
        await redis.close()
      },
    }
  }
  return [
    expressBare,
    {
      id: 'frasco',
      library: 'Frasco sessionMiddleware + createRedisStore',
      stateful: true,
      start: () =>
        withClient(async (redis) => {
          const { createRedisStore } = await import('../../dist/stores/index.js')
          return frascoExpress(await frascoSessions({ secret, extra: { store: createRedisStore(redis) } }))
        }),
    },
    {
      id: 'connect-redis',
      library: 'express-session + connect-redis',
      package: 'connect-redis',
      stateful: true,
      start: () =>
        withClient(async (redis) => {
          const { RedisStore } = await import('connect-redis')
          return expressSession(new RedisStore({ client: redis }), secret)
        }),
    },
  ]
}

/**
 * The sides of one framework: `{ id, library, package?, stateful?, start() → { port, close() } }`.
 * `bare` answers without sessions; `stateful` sides keep the session on the server (the cookie
 * holds an id, so the counter keeps growing under load instead of answering the same N).
 */
export async function sidesOf(framework, { secret = randomBytes(32).toString('base64url'), redisUrl } = {}) {
  switch (framework) {
    case 'node':
      return nodeSides({ secret })
    case 'express':
      return expressSides({ secret })
    case 'fastify':
      return fastifySides({ secret })
    case 'koa':
      return koaSides({ secret })
    case 'hono':
      return honoSides({ secret })
    case 'store':
      return storeSides({ secret, redisUrl })
    default:
      throw new TypeError(`unknown framework ${framework}: give one of ${FRAMEWORKS.join(', ')}`)
  }
}

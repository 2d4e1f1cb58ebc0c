/**
 * Flask's session tutorial, on plain node:http with Frasco.
 *
 *   npm start            # then open http://127.0.0.1:5000/
 *
 * Environment: PORT (default 5000), FRASCO_SECRETS (comma-separated, newest first; when unset a
 * random secret is generated and sessions do not survive a restart).
 */
import { randomBytes } from 'node:crypto'
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createSessions, secretsFromEnv } from 'frasco'
import { withSessions, type SessionRequest } from 'frasco/node'

type Data = { username: string }

function loadSecrets(): string[] {
  if (process.env.FRASCO_SECRETS) return secretsFromEnv()
  console.warn('warning: FRASCO_SECRETS is not set; using a random secret, so sessions will not survive a restart')
  console.warn('         make one with `npx frasco keygen` and export FRASCO_SECRETS=<it>')
  return [randomBytes(32).toString('base64url')]
}

// A session value is user input: escape it before it goes into HTML.
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function page(res: ServerResponse, body: string, status = 200): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8' })
  res.end(`<!doctype html><meta charset="utf-8"><title>Frasco demo</title>${body}`)
}

function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { Location: location })
  res.end()
}

async function readForm(req: SessionRequest<Data>): Promise<URLSearchParams> {
  let body = ''
  for await (const chunk of req) {
    body += chunk
    if (body.length > 10_000) break
  }
  return new URLSearchParams(body)
}

// Signed in for at most 14 days. Only "Remember me" makes the cookie outlive the browser.
const LIFETIME = 14 * 24 * 3600

export function createApp(secrets: string[] = loadSecrets()) {
  const sessions = createSessions<Data>({ secrets, lifetime: LIFETIME })
  // csrf: true refuses a POST another site made the browser send (a 403 before this handler runs),
  // so no other page can log a visitor in as someone else, or out (docs/csrf.md).
  const options = { csrf: true }
  return withSessions(sessions, async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/' && req.method === 'GET') {
      // Flashed messages show once, as in Flask's tutorial: reading them removes them.
      const flashes = req.session.consumeFlashes().map(({ message }) => `<p class="flash">${escapeHtml(message)}</p>`).join('')
      const username = req.session.get('username')
      if (username !== undefined) {
        const remembered = req.session.persistent ? ' (remembered on this browser)' : ''
        return page(res, `${flashes}<p>Logged in as ${escapeHtml(username)}${remembered}</p><form method="post" action="/logout"><button>Log out</button></form>`)
      }
      return page(res, `${flashes}<p>You are not logged in</p><p><a href="/login">Log in</a></p>`)
    }
    if (path === '/login' && req.method === 'GET') {
      return page(
        res,
        '<form method="post"><p><input type="text" name="username" required autofocus>' +
          '<p><label><input type="checkbox" name="remember"> Remember me</label><p><button>Login</button></form>',
      )
    }
    if (path === '/login' && req.method === 'POST') {
      const form = await readForm(req)
      const username = form.get('username')?.trim()
      if (!username) return page(res, '<p>A username is required. <a href="/login">Try again</a></p>', 400)
      // A new identity on login guards against session fixation.
      req.session.regenerate()
      req.session.set('username', username.slice(0, 100))
      // Remembered: a cookie with a Max-Age of the lifetime. Otherwise it ends with the browser.
      req.session.persistent = form.get('remember') === 'on'
      req.session.flash('You were logged in')
      return redirect(res, '/')
    }
    // POST only: a state change on GET would be open to any link or image on another site.
    if (path === '/logout' && req.method === 'POST') {
      req.session.pop('username')
      return redirect(res, '/')
    }
    return page(res, '<p>Not found</p>', 404)
  }, options)
}

const isMain = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'))
if (isMain) {
  const server = createServer(createApp())
  server.listen(Number(process.env.PORT ?? 5000), '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo
    console.log(`Frasco demo on http://127.0.0.1:${port}/  (Ctrl+C to stop)`)
  })
}

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../examples/login.js'

// The demo of `npm start`: Flask's session tutorial on plain node:http.
describe('examples/login.ts', () => {
  let server: Server
  let base: string

  beforeAll(async () => {
    server = createServer(createApp([randomBytes(32).toString('base64url')]))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  // What a browser sends with a form on the page's own origin. The demo has csrf: true, so a POST
  // that says nothing of where it came from (plain fetch or curl) needs a token instead.
  const SAME_ORIGIN = { 'sec-fetch-site': 'same-origin' }

  function cookieOf(response: Response): string {
    return response.headers.getSetCookie().map((c) => c.split(';', 1)[0]).join('; ')
  }

  it('logs in as admin, shows it, and logs out', async () => {
    const anonymous = await fetch(`${base}/`)
    expect(anonymous.status).toBe(200)
    expect(await anonymous.text()).toContain('You are not logged in')

    const form = await fetch(`${base}/login`)
    expect(await form.text()).toContain('name="username"')

    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: SAME_ORIGIN,
      body: new URLSearchParams({ username: 'admin' }),
      redirect: 'manual',
    })
    expect(login.status).toBe(303)
    expect(login.headers.get('location')).toBe('/')
    const cookie = cookieOf(login)
    expect(cookie).toMatch(/^session=f1\./)

    // The first page after login shows the flashed message once, and rewrites the cookie without it.
    const home = await fetch(`${base}/`, { headers: { cookie } })
    const homeText = await home.text()
    expect(homeText).toContain('<p class="flash">You were logged in</p>')
    expect(homeText).toContain('Logged in as admin')
    expect(home.headers.get('vary')).toBe('Cookie')
    const seen = cookieOf(home)
    expect(seen).toMatch(/^session=f1\./)

    const again = await fetch(`${base}/`, { headers: { cookie: seen } })
    const againText = await again.text()
    expect(againText).toContain('Logged in as admin')
    expect(againText).not.toContain('You were logged in')
    expect(again.headers.get('vary')).toBe('Cookie')
    expect(again.headers.getSetCookie()).toEqual([])

    const logout = await fetch(`${base}/logout`, { method: 'POST', headers: { ...SAME_ORIGIN, cookie: seen }, redirect: 'manual' })
    expect(logout.status).toBe(303)
    const deletion = logout.headers.getSetCookie()
    expect(deletion).toHaveLength(1)
    expect(deletion[0]).toMatch(/^session=; .*Max-Age=0/)

    expect(await (await fetch(`${base}/`)).text()).toContain('You are not logged in')
  })

  it('"Remember me" keeps the cookie for the 14-day lifetime; without it, the cookie ends with the browser', async () => {
    expect(await (await fetch(`${base}/login`)).text()).toContain('<input type="checkbox" name="remember">')
    const maxAgeOf = (header: string | undefined): number | undefined => {
      const match = /; Max-Age=(\d+)/i.exec(header ?? '')
      return match === null ? undefined : Number(match[1])
    }
    for (const remember of [true, false]) {
      const body = new URLSearchParams({ username: 'admin', ...(remember ? { remember: 'on' } : {}) })
      const login = await fetch(`${base}/login`, { method: 'POST', headers: SAME_ORIGIN, body, redirect: 'manual' })
      expect(login.status).toBe(303)
      const [written] = login.headers.getSetCookie()
      expect(written).toMatch(/^session=f1\./)
      expect(maxAgeOf(written)).toBe(remember ? 14 * 24 * 3600 : undefined)
      expect(written).not.toMatch(/Expires/i)

      // The next request reads the choice back from the cookie; consuming the flash rewrites the
      // cookie, still persistent or not, its Max-Age counting down from login.
      const home = await fetch(`${base}/`, { headers: { cookie: cookieOf(login) } })
      const text = await home.text()
      expect(text).toContain('Logged in as admin')
      expect(text.includes('(remembered on this browser)')).toBe(remember)
      const [rewritten] = home.headers.getSetCookie()
      expect(rewritten).toMatch(/^session=f1\./)
      const left = maxAgeOf(rewritten)
      if (remember) {
        expect(left).toBeGreaterThanOrEqual(14 * 24 * 3600 - 2)
        expect(left).toBeLessThanOrEqual(14 * 24 * 3600)
      } else {
        expect(left).toBeUndefined()
      }
    }
  })

  it.each([
    ['another site\'s form (Sec-Fetch-Site: cross-site)', { 'sec-fetch-site': 'cross-site' }, 'ERR_SESSION_CSRF_CROSS_SITE'],
    ['an older browser on another origin (Origin only)', { origin: 'http://evil.example' }, 'ERR_SESSION_CSRF_ORIGIN'],
    ['a client that says nothing and brings no token', {}, 'ERR_SESSION_CSRF_TOKEN_MISSING'],
  ])('refuses a login POST from %s: 403, no cookie, nobody logged in', async (_, headers, code) => {
    const login = await fetch(`${base}/login`, { method: 'POST', headers, body: new URLSearchParams({ username: 'attacker' }), redirect: 'manual' })
    expect(login.status).toBe(403)
    expect(await login.text()).toBe(`Forbidden: ${code}`)
    expect(login.headers.getSetCookie()).toEqual([])
  })

  it('logs out by POST only: a GET, which any link or image on another site can send, changes nothing', async () => {
    const login = await fetch(`${base}/login`, { method: 'POST', headers: SAME_ORIGIN, body: new URLSearchParams({ username: 'admin' }), redirect: 'manual' })
    const cookie = cookieOf(login)
    const get = await fetch(`${base}/logout`, { headers: { cookie }, redirect: 'manual' })
    expect(get.status).toBe(404)
    expect(get.headers.getSetCookie()).toEqual([])
    expect(await (await fetch(`${base}/`, { headers: { cookie } })).text()).toContain('Logged in as admin')
  })

  it('escapes the username, which is user input', async () => {
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: SAME_ORIGIN,
      body: new URLSearchParams({ username: '<script>alert(1)</script>' }),
      redirect: 'manual',
    })
    const text = await (await fetch(`${base}/`, { headers: { cookie: cookieOf(login) } })).text()
    expect(text).toContain('Logged in as &#60;script&#62;alert(1)&#60;/script&#62;')
    expect(text).not.toContain('<script>')
  })

  it('treats a tampered cookie as logged out, with a 200', async () => {
    const login = await fetch(`${base}/login`, { method: 'POST', headers: SAME_ORIGIN, body: new URLSearchParams({ username: 'admin' }), redirect: 'manual' })
    const cookie = cookieOf(login).replace('eyJ', 'eyK')
    const response = await fetch(`${base}/`, { headers: { cookie: `${cookie}x` } })
    expect(response.status).toBe(200)
    expect(await response.text()).toContain('You are not logged in')
  })

  it('rejects an empty username', async () => {
    const response = await fetch(`${base}/login`, { method: 'POST', headers: SAME_ORIGIN, body: new URLSearchParams({ username: ' ' }), redirect: 'manual' })
    expect(response.status).toBe(400)
    expect(response.headers.getSetCookie()).toEqual([])
  })
})

describe('npm start (the built demo)', () => {
  it('starts, warns about the random secret, and serves the login page', async () => {
    const entry = join(import.meta.dirname, '..', '..', 'build', 'examples', 'login.js')
    const { existsSync } = await import('node:fs')
    if (!existsSync(entry)) {
      const { execFileSync } = await import('node:child_process')
      execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.examples.json'], { cwd: join(import.meta.dirname, '..', '..') })
    }
    const { FRASCO_SECRETS: _, ...env } = process.env
    const child = spawn(process.execPath, [entry], { env: { ...env, PORT: '0' } })
    try {
      let output = ''
      let url = ''
      child.stdout.on('data', (d) => (output += d))
      child.stderr.on('data', (d) => (output += d))
      await new Promise<void>((resolve, reject) => {
        child.on('exit', (code) => reject(new Error(`demo exited with ${code}: ${output}`)))
        const poll = setInterval(() => {
          const match = /Frasco demo on (http:\S+)/.exec(output)
          if (match) {
            url = match[1]!
            clearInterval(poll)
            resolve()
          }
        }, 20)
      })
      expect(output).toContain('FRASCO_SECRETS is not set')
      const text = await (await fetch(new URL('/login', url))).text()
      expect(text).toContain('name="username"')
    } finally {
      child.kill()
    }
  })
})

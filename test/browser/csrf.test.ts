/**
 * Cross-site request forgery, proven in a real browser (issue #15): Chromium, a bank on
 * http://127.0.0.1:<port> (Express 5 with Frasco's sessionMiddleware) and an attacker's site on
 * http://localhost:<port> — a different site to the browser. The attacker's pages try the three
 * classic forgeries in the victim's browser:
 *   (a) login CSRF: an auto-submitting cross-site form that logs the victim in as the attacker;
 *   (b) a cross-site form POST to a state-changing route while the victim is logged in;
 *   (c) a cross-site `fetch` in `no-cors` mode with `credentials: 'include'`.
 * The bank counts every run of each handler and every change it makes, and logs what arrived
 * (Cookie sent or not, Sec-Fetch-Site, Origin), so each test states what really happened.
 *
 * First without protection, where only the default `SameSite=Lax` stands in the way; then with
 * `csrf: true`, where every cross-site attempt must be refused before the handler runs while the
 * bank's own form and fetch still work.
 */
import { randomBytes } from 'node:crypto'
import type { IncomingMessage, RequestListener } from 'node:http'
import express from 'express'
import type { Page, Response } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { sessionMiddleware, type SessionMiddlewareOptions } from '../../src/adapters/node.js'
import { createSessions } from '../../src/sessions.js'
import { describeBrowser, startLocalhostServer, type BrowserFixture } from '../helpers/browser.js'
import { startServer, useTestServers, type TestServer } from '../helpers/server.js'
import '../frameworks/express-session.js'

useTestServers()

const secrets = [randomBytes(32).toString('base64url')]

type Route = 'login' | 'transfer' | 'action'

/** What reached one handler. */
interface Arrival {
  route: Route
  /** Whether the browser sent any Cookie header. */
  cookie: boolean
  secFetchSite: string | undefined
  origin: string | undefined
  /** The session's user as the handler saw it. */
  user: string | undefined
}

interface Bank {
  server: TestServer
  /** Every handler run, in order; a request refused before the handler never appears. */
  arrivals: Arrival[]
  /** State changes: transfers made and API actions taken, each by a logged-in user. */
  transfers: Array<{ from: string; to: string; amount: string }>
  actions: Array<{ by: string; what: string }>
  runs(route: Route): number
}

/** Keeps each page load to one request: no /favicon.ico for the bank to log or the test to wait on. */
const NO_FAVICON = '<link rel="icon" href="data:,">'

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`)
}

/** The bank: Express 5, urlencoded bodies, Frasco's sessionMiddleware (with `options`). */
async function startBank(options?: SessionMiddlewareOptions): Promise<Bank> {
  const sessions = createSessions<{ username: string }>({ secrets })
  const arrivals: Arrival[] = []
  const transfers: Bank['transfers'] = []
  const actions: Bank['actions'] = []
  const arrive = (route: Route, req: IncomingMessage, user: string | undefined): void => {
    const header = (name: string): string | undefined => {
      const value = req.headers[name]
      return typeof value === 'string' ? value : undefined
    }
    arrivals.push({ route, cookie: req.headers.cookie !== undefined, secFetchSite: header('sec-fetch-site'), origin: header('origin'), user })
  }

  const app = express()
  app.use(express.urlencoded({ extended: false }))
  app.use(sessionMiddleware(sessions, options))

  app.get('/', (req, res) => {
    const user = req.session.username
    res.type('html').send(`<!doctype html><title>bank</title>${NO_FAVICON}
<p id="who">${user === undefined ? 'anonymous' : `logged in as ${escapeHtml(user)}`}</p>
<form id="login" method="post" action="/login"><input name="username"><button>Log in</button></form>
<form id="transfer" method="post" action="/transfer"><input name="to"><input name="amount"><button>Send</button></form>
<button id="action" onclick="act()">Act</button>
<p id="result"></p>
<script>
  async function act() {
    const response = await fetch('/api/action', { method: 'POST', body: new URLSearchParams({ what: 'same-origin' }) })
    document.getElementById('result').textContent = response.status + ' ' + (await response.text())
  }
</script>`)
  })

  app.post('/login', (req, res) => {
    const username = typeof req.body?.username === 'string' ? req.body.username : ''
    arrive('login', req, req.session.username)
    req.session.regenerate() // a new identity on login, against session fixation
    req.session.username = username
    res.redirect(303, '/?welcome')
  })

  app.post('/transfer', (req, res) => {
    const user = req.session.username
    arrive('transfer', req, user)
    if (user === undefined) {
      res.status(401).type('text').send('log in first')
      return
    }
    transfers.push({ from: user, to: String(req.body?.to), amount: String(req.body?.amount) })
    res.redirect(303, '/?sent')
  })

  app.post('/api/action', (req, res) => {
    const user = req.session.username
    arrive('action', req, user)
    if (user === undefined) {
      res.status(401).type('text').send('log in first')
      return
    }
    actions.push({ by: user, what: String(req.body?.what) })
    res.type('text').send('done')
  })

  const server = await startServer(app)
  return { server, arrivals, transfers, actions, runs: (route) => arrivals.filter((arrival) => arrival.route === route).length }
}

/** The attacker's site on localhost: one page per forgery, each aimed at `bank`. */
async function startAttacker(bank: TestServer): Promise<TestServer> {
  const pages: Record<string, string> = {
    // (a) Login CSRF: the victim ends up in the attacker's account (and types secrets into it).
    '/login': `<form method="post" action="${bank.url('/login')}"><input type="hidden" name="username" value="attacker"></form>
<script>document.forms[0].submit()</script>`,
    // (b) A state change on the victim's behalf.
    '/transfer': `<form method="post" action="${bank.url('/transfer')}"><input type="hidden" name="to" value="attacker"><input type="hidden" name="amount" value="1000"></form>
<script>document.forms[0].submit()</script>`,
    // (c) A "simple" cross-site request: no preflight, the response is opaque, but it is sent.
    '/fetch': `<script>
  fetch(${JSON.stringify(bank.url('/api/action'))}, { method: 'POST', mode: 'no-cors', credentials: 'include', body: 'what=attack' })
    .then(() => { document.title = 'sent' }, (error) => { document.title = 'failed: ' + error })
</script>`,
  }
  const listener: RequestListener = (req, res) => {
    const page = pages[req.url ?? '']
    res.statusCode = page === undefined ? 404 : 200
    res.setHeader('content-type', 'text/html; charset=utf-8')
    res.end(`<!doctype html><title>free prizes</title>${NO_FAVICON}${page ?? 'not found'}`)
  }
  return startLocalhostServer(listener)
}

async function startSites(options?: SessionMiddlewareOptions): Promise<{ bank: Bank; attacker: TestServer }> {
  const bank = await startBank(options)
  return { bank, attacker: await startAttacker(bank.server) }
}

/** Who the bank says is logged in, as the victim sees it on loading the bank's page afterwards. */
async function whoAmI(page: Page, bank: Bank): Promise<string> {
  await page.goto(bank.server.url('/'))
  return page.locator('#who').innerText()
}

/**
 * Logs in through the bank's own form, same-origin; `typing` fills it and clicks as a person
 * would, otherwise the page's own script fills and submits it (one round trip, for set-ups).
 */
async function logIn(page: Page, bank: Bank, username: string, typing = false): Promise<void> {
  await page.goto(bank.server.url('/'))
  // A landing URL of its own: waiting for '/' would be satisfied at once by the page we are on.
  const submitted = page.waitForURL((url) => url.href === bank.server.url('/?welcome'))
  if (typing) {
    await page.fill('#login input[name=username]', username)
    await page.click('#login button')
  } else {
    // A string: the tests are type-checked without the DOM library.
    await page.evaluate(`{ const form = document.getElementById('login'); form.username.value = ${JSON.stringify(username)}; form.submit() }`)
  }
  await submitted
  await expect(page.locator('#who').innerText()).resolves.toBe(`logged in as ${username}`)
}

/**
 * Opens the attacker's form page, which submits itself to the bank: resolves with the bank's
 * response to the forged POST (a 303 when the handler ran and redirected), once the victim's tab
 * has finished loading whatever the bank answered.
 */
async function forgeForm(page: Page, attacker: TestServer, bank: Bank, path: '/login' | '/transfer'): Promise<Response> {
  const forged = page.waitForResponse((response) => response.url() === bank.server.url(path) && response.request().method() === 'POST')
  // 'commit': the page submits itself while loading; waiting for its load would race that.
  await page.goto(attacker.url(path), { waitUntil: 'commit' })
  const response = await forged
  await page.waitForURL((url) => url.origin === bank.server.origin, { waitUntil: 'load' })
  return response
}

/** Opens the attacker's fetch page: resolves with the bank's response as the network saw it. */
async function forgeFetch(page: Page, attacker: TestServer, bank: Bank): Promise<Response> {
  const forged = page.waitForResponse(bank.server.url('/api/action'))
  await page.goto(attacker.url('/fetch'))
  const response = await forged
  // The page's own view: a no-cors fetch resolves with an opaque response whatever the status.
  await page.waitForFunction("document.title !== 'free prizes'")
  expect(await page.title()).toBe('sent')
  return response
}

/** The bank's own form and fetch, same-origin: both reach their handlers and change state. */
async function expectSameOriginWorks({ page }: BrowserFixture, bank: Bank): Promise<void> {
  await logIn(page, bank, 'victim', true)

  await page.fill('#transfer input[name=to]', 'landlord')
  await page.fill('#transfer input[name=amount]', '700')
  await Promise.all([page.waitForURL((url) => url.href === bank.server.url('/?sent')), page.click('#transfer button')])
  expect(bank.transfers).toEqual([{ from: 'victim', to: 'landlord', amount: '700' }])

  await page.click('#action')
  await page.locator('#result:not(:empty)').waitFor() // the page writes the fetch's outcome there
  await expect(page.locator('#result').innerText()).resolves.toBe('200 done')
  expect(bank.actions).toEqual([{ by: 'victim', what: 'same-origin' }])

  expect(bank.arrivals.map(({ route, cookie, secFetchSite }) => ({ route, cookie, secFetchSite }))).toEqual([
    { route: 'login', cookie: false, secFetchSite: 'same-origin' },
    { route: 'transfer', cookie: true, secFetchSite: 'same-origin' },
    { route: 'action', cookie: true, secFetchSite: 'same-origin' },
  ])
}

/** What the browser receives for each forgery once `csrf: true` is on: Sec-Fetch-Site says cross-site. */
const REFUSED = 'Forbidden: ERR_SESSION_CSRF_CROSS_SITE'

describeBrowser('CSRF in Chromium: a bank on 127.0.0.1, an attacker on localhost', (browser) => {
  describe('without protection (SameSite=Lax, the default, alone)', () => {
    it("the bank's own form and fetch work", async () => {
      const { bank } = await startSites()
      await expectSameOriginWorks(browser, bank)
    })

    it('(a) login CSRF succeeds: the victim, anonymous or logged in, ends up logged in as the attacker', async () => {
      const { bank, attacker } = await startSites()
      const response = await forgeForm(browser.page, attacker, bank, '/login')

      // The cross-site top-level POST reached the handler (the victim had no cookie to withhold)...
      expect(bank.arrivals).toEqual([{ route: 'login', cookie: false, secFetchSite: 'cross-site', origin: attacker.origin, user: undefined }])
      expect(response.status()).toBe(303)
      // ...and the browser stored the Lax cookie it set: the response was a top-level navigation's.
      await expect(browser.page.locator('#who').innerText()).resolves.toBe('logged in as attacker')
      expect(await whoAmI(browser.page, bank)).toBe('logged in as attacker')

      // Logged in as themselves, the victim fares no better: their Lax cookie stays home on the
      // cross-site POST, so the handler sees nobody, and the attacker's new cookie replaces theirs.
      await logIn(browser.page, bank, 'victim')
      await forgeForm(browser.page, attacker, bank, '/login')
      expect(bank.arrivals.at(-1)).toEqual({ route: 'login', cookie: false, secFetchSite: 'cross-site', origin: attacker.origin, user: undefined })
      expect(await whoAmI(browser.page, bank)).toBe('logged in as attacker')
    })

    it('(b) a cross-site form POST reaches the handler, but without the Lax cookie: no transfer', async () => {
      const { bank, attacker } = await startSites()
      await logIn(browser.page, bank, 'victim')
      const response = await forgeForm(browser.page, attacker, bank, '/transfer')

      expect(bank.runs('transfer')).toBe(1)
      expect(bank.arrivals.at(-1)).toEqual({ route: 'transfer', cookie: false, secFetchSite: 'cross-site', origin: attacker.origin, user: undefined })
      expect(response.status()).toBe(401)
      expect(bank.transfers).toEqual([])
      expect(await whoAmI(browser.page, bank)).toBe('logged in as victim')
    })

    it('(c) a cross-site no-cors fetch reaches the handler, but without the Lax cookie: no action', async () => {
      const { bank, attacker } = await startSites()
      await logIn(browser.page, bank, 'victim')
      const response = await forgeFetch(browser.page, attacker, bank)

      expect(bank.runs('action')).toBe(1)
      expect(bank.arrivals.at(-1)).toEqual({ route: 'action', cookie: false, secFetchSite: 'cross-site', origin: attacker.origin, user: undefined })
      expect(response.status()).toBe(401)
      expect(bank.actions).toEqual([])
      expect(await whoAmI(browser.page, bank)).toBe('logged in as victim')
    })
  })

  describe('with csrf: true', () => {
    it("the bank's own form and fetch still work", async () => {
      const { bank } = await startSites({ csrf: true })
      await expectSameOriginWorks(browser, bank)
    })

    it('(a) login CSRF is refused: the handler never runs, the victim stays anonymous or themselves', async () => {
      const { bank, attacker } = await startSites({ csrf: true })
      const response = await forgeForm(browser.page, attacker, bank, '/login')

      expect(bank.arrivals).toEqual([])
      expect(response.status()).toBe(403)
      await expect(browser.page.locator('body').innerText()).resolves.toBe(REFUSED)
      expect(await whoAmI(browser.page, bank)).toBe('anonymous')

      await logIn(browser.page, bank, 'victim')
      expect((await forgeForm(browser.page, attacker, bank, '/login')).status()).toBe(403)
      expect(bank.runs('login')).toBe(1) // the victim's own login only
      expect(await whoAmI(browser.page, bank)).toBe('logged in as victim')
    })

    it('(b) a cross-site form POST is refused before the handler', async () => {
      const { bank, attacker } = await startSites({ csrf: true })
      await logIn(browser.page, bank, 'victim')
      const response = await forgeForm(browser.page, attacker, bank, '/transfer')

      expect(bank.runs('transfer')).toBe(0)
      expect(response.status()).toBe(403)
      await expect(browser.page.locator('body').innerText()).resolves.toBe(REFUSED)
      expect(bank.transfers).toEqual([])
      expect(await whoAmI(browser.page, bank)).toBe('logged in as victim')
    })

    it('(c) a cross-site no-cors fetch is refused before the handler', async () => {
      const { bank, attacker } = await startSites({ csrf: true })
      await logIn(browser.page, bank, 'victim')
      const response = await forgeFetch(browser.page, attacker, bank)

      expect(bank.runs('action')).toBe(0)
      // Opaque to the attacker's page; the network saw the refusal.
      expect(response.status()).toBe(403)
      expect(await response.text()).toBe(REFUSED)
      expect(bank.actions).toEqual([])
      expect(await whoAmI(browser.page, bank)).toBe('logged in as victim')
    })
  })
})

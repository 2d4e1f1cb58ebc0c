/**
 * The demo (examples/login.ts) in a real browser: its csrf: true stops login CSRF. An attacker's
 * page on http://localhost:<port> (another site) submits a hidden login form to the demo on
 * http://127.0.0.1:<port>; the victim's browser must not end up logged in as the attacker, while
 * the demo's own login form, filled in and clicked, still works.
 */
import { randomBytes } from 'node:crypto'
import type { RequestListener } from 'node:http'
import { expect, it } from 'vitest'
import { createApp } from '../../examples/login.js'
import { describeBrowser, startLocalhostServer } from '../helpers/browser.js'
import { startServer, useTestServers, type TestServer } from '../helpers/server.js'

useTestServers()

function startDemo(): Promise<TestServer> {
  return startServer(createApp([randomBytes(32).toString('base64url')]))
}

async function startAttacker(demo: TestServer): Promise<TestServer> {
  const listener: RequestListener = (_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8')
    res.end(`<!doctype html><title>free prizes</title><link rel="icon" href="data:,">
<form method="post" action="${demo.url('/login')}"><input type="hidden" name="username" value="attacker"></form>
<script>document.forms[0].submit()</script>`)
  }
  return startLocalhostServer(listener)
}

describeBrowser('the demo in Chromium', (fixture) => {
  it('refuses a cross-site login POST (login CSRF): 403, and the browser is not logged in as the attacker', async () => {
    const demo = await startDemo()
    const attacker = await startAttacker(demo)
    const { page, context } = fixture
    const forged = page.waitForResponse((response) => response.url() === demo.url('/login') && response.request().method() === 'POST')
    await page.goto(attacker.url('/'), { waitUntil: 'commit' })
    const response = await forged
    expect(response.status()).toBe(403)
    expect(await response.text()).toBe('Forbidden: ERR_SESSION_CSRF_CROSS_SITE')
    expect(await context.cookies(demo.origin)).toEqual([])
    await page.goto(demo.url('/'))
    expect(await page.content()).toContain('You are not logged in')
  })

  it("logs in through its own form, and out through its own button (same origin)", async () => {
    const demo = await startDemo()
    const { page } = fixture
    await page.goto(demo.url('/login'))
    await page.fill('input[name=username]', 'ada')
    await Promise.all([page.waitForURL(demo.url('/')), page.click('button')])
    expect(await page.content()).toContain('Logged in as ada')
    await Promise.all([page.waitForURL(demo.url('/')), page.click('button')])
    expect(await page.content()).toContain('You are not logged in')
  })
})

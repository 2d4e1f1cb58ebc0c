/**
 * A real browser for the tests that only a browser can settle (SameSite, Fetch Metadata, what a
 * cross-site form or `fetch` really sends): Debian's Chromium, driven headless through
 * playwright-core (which brings no browser of its own). One browser per test file, a fresh
 * context (no cookies, no cache) and page per test.
 *
 * Without Chromium or playwright-core the suites skip off CI, saying what to install; in CI
 * (`CI=true` or `1`) they fail instead, so a missing install step cannot pass as green. This
 * mirrors test/helpers/redis.ts.
 */
import { spawnSync } from 'node:child_process'
import type { RequestListener, Server } from 'node:http'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest'
import { startServer, type TestServer } from './server.js'

/** The browser binary: Debian's `apt-get install chromium` puts it here. */
const CHROMIUM = process.env.FRASCO_CHROMIUM ?? '/usr/bin/chromium'

/**
 * What this machine needs: no sandbox (containers, root), no GPU, and no traffic of the browser's
 * own (QUIC probes, component and safe-browsing updates, sync) to slow or disturb the tests.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

const chromiumInstalled = spawnSync(CHROMIUM, ['--version'], { stdio: 'ignore', timeout: 10_000 }).status === 0

const playwrightInstalled = ((): boolean => {
  try {
    createRequire(import.meta.url).resolve('playwright-core')
    return true
  } catch {
    return false
  }
})()

/** Whether a real browser can be driven here. */
export const browserAvailable = chromiumInstalled && playwrightInstalled

const INSTALL_COMMAND = 'sudo apt-get install chromium'

/** What is missing and how to get it, or undefined when nothing is. */
const missing = [
  chromiumInstalled
    ? undefined
    : `${CHROMIUM} is not installed: install it with \`${INSTALL_COMMAND}\` (Debian's Chromium), or point FRASCO_CHROMIUM at a Chromium binary`,
  playwrightInstalled ? undefined : 'playwright-core is not installed: run `npm install` (it is a devDependency)',
]
  .filter((reason) => reason !== undefined)
  .join('; ')

/** CI services set CI=true (some CI=1); there a missing browser fails the run instead of skipping. */
const ON_CI = /^(true|1)$/i.test(process.env.CI ?? '')

/** The file's browser and the current test's fresh context and page (read them inside tests only). */
export interface BrowserFixture {
  readonly browser: Browser
  /** A new context for each test: its own cookie jar, cache and storage. */
  readonly context: BrowserContext
  /** A page in {@link BrowserFixture.context}; open more with `context.newPage()` (same cookies). */
  readonly page: Page
}

/**
 * A `describe` whose tests get a real Chromium: launched before them, closed after them, with a
 * fresh context and page per test. Without Chromium or playwright-core: skipped off CI with the
 * install command, failing in CI.
 */
export function describeBrowser(name: string, body: (fixture: BrowserFixture) => void): void {
  const skipped = !browserAvailable && !ON_CI
  if (skipped) console.warn(`skipped "${name}": ${missing}`)
  describe.skipIf(skipped)(skipped ? `${name} (skipped: install Chromium with \`${INSTALL_COMMAND}\`)` : name, () => {
    if (!browserAvailable) {
      it('has a real Chromium to test in', () => {
        throw new Error(`${missing}; CI requires it (.ci/run installs chromium)`)
      })
      return
    }
    let browser: Browser | undefined
    let context: BrowserContext | undefined
    let page: Page | undefined
    const fixture: BrowserFixture = {
      get browser() {
        return required(browser, 'browser')
      },
      get context() {
        return required(context, 'context')
      },
      get page() {
        return required(page, 'page')
      },
    }
    beforeAll(async () => {
      const { chromium } = await import('playwright-core')
      // launch() gives the browser a fresh temporary user data dir and removes it on close, so
      // nothing (profile, cookies, first-run state) carries over from one run to the next.
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 })
    }, 30_000)
    afterAll(async () => {
      await browser?.close()
      browser = undefined
    }, 20_000)
    beforeEach(async () => {
      context = await required(browser, 'browser').newContext()
      // Playwright's own waits only; a stuck navigation fails the test well within its timeout.
      context.setDefaultTimeout(10_000)
      page = await context.newPage()
    })
    afterEach(async () => {
      await context?.close()
      context = undefined
      page = undefined
    })
    body(fixture)
  })
}

function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the browser ${what} exists only inside a test of describeBrowser`)
  return value
}

/**
 * Starts `listener` as `http://localhost:<port>`: a site other than the `http://127.0.0.1:<port>`
 * of {@link startServer} for the browser (a host name and an IP address never share a site), so
 * it can play the attacker's origin against an app on 127.0.0.1. It listens on 127.0.0.1 and,
 * where the machine has IPv6 loopback, on [::1] at the same port: Chromium resolves `localhost`
 * itself to both (whatever /etc/hosts says) and may try either first. Closed with the servers of
 * {@link startServer} (`useTestServers`).
 */
export async function startLocalhostServer(listener: RequestListener): Promise<TestServer> {
  let lastError: unknown
  for (let attempt = 0; attempt < 3; attempt++) {
    const primary = await startServer(listener)
    try {
      const secondary = await listenIpv6Loopback(listener, primary.port)
      if (secondary !== undefined) {
        primary.server.once('close', () => {
          secondary.closeAllConnections()
          secondary.close()
        })
      }
      const origin = `http://localhost:${primary.port}`
      return { origin, port: primary.port, server: primary.server, url: (path = '/') => origin + path }
    } catch (error) {
      // [::1]:<port> was taken by someone else: try another port.
      lastError = error
      primary.server.closeAllConnections()
      await new Promise((resolve) => primary.server.close(resolve))
    }
  }
  throw lastError
}

/** Listens on [::1]:`port`; undefined where there is no IPv6 loopback. */
function listenIpv6Loopback(listener: RequestListener, port: number): Promise<Server | undefined> {
  const server = createServer(listener)
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRNOTAVAIL' || error.code === 'EAFNOSUPPORT') resolve(undefined)
      else reject(error)
    })
    server.listen(port, '::1', () => resolve(server))
  })
}

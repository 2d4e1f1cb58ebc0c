import { withSessions } from 'frasco/fetch'
import { sessions } from '../../../lib/session.js'

// frasco/fetch on a Route Handler: the session read from the Request and written on the Response,
// its CSRF check on. Its check takes the app's origin from request.url, which Next.js builds from
// the address it listens on: a request with Origin alone (no Sec-Fetch-Site) passes only from an
// origin listed in `csrf: { origins }`.
export const PUT = withSessions(
  sessions,
  async (request, session) => {
    session.set('note', await request.text())
    return Response.json({ saved: true })
  },
  { csrf: true },
)

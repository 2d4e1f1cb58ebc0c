import { csrfToken } from 'frasco'
import { getSession, saveSession } from '../../../lib/session.js'

// A token for scripts whose requests carry neither Sec-Fetch-Site nor Origin. The session's first
// token stores a secret in it, which only a Route Handler or a Server Action can write.
export async function GET() {
  const session = await getSession()
  const token = csrfToken(session)
  await saveSession(session)
  return Response.json({ token })
}

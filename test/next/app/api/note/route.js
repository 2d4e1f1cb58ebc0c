// --- recipe: Next.js route handler that writes
import { checkCsrf } from 'frasco'
import { getSession, saveSession } from '../../../lib/session.js'

// Next.js checks where Server Actions come from, not Route Handlers: check here. Its request.url
// names the address Next.js listens on (http://localhost:3000), not the one the browser used, so
// the app's origin is the host the request came to, as Next.js takes it for Server Actions.
function appOrigin(request) {
  const host = request.headers.get('x-forwarded-host')?.split(',')[0].trim() || request.headers.get('host')
  return `${new URL(request.url).protocol}//${host}`
}

export async function PUT(request) {
  const session = await getSession()
  const refused = checkCsrf(
    {
      method: request.method,
      origin: appOrigin(request),
      header: (name) => request.headers.get(name) ?? undefined,
      token: request.headers.get('x-csrf-token') ?? undefined,
    },
    session,
  )
  if (refused !== undefined) return new Response(`Forbidden: ${refused.code}`, { status: 403 })
  const note = await request.text()
  if (note === '') session.delete('note')
  else session.set('note', note)
  await saveSession(session)
  return Response.json({ length: note.length })
}
// --- end recipe

export async function GET() {
  const session = await getSession()
  return Response.json({ note: session.get('note') ?? null })
}

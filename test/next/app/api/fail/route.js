import { getSession, saveSession } from '../../../lib/session.js'

// A Route Handler that fails after it saved the session: by throwing (Next.js then answers 500
// without the cookies set so far) or by answering 500 itself (the jar cannot know: it was told to
// write, so the cookie goes out). Commit last, once nothing can fail.
export async function POST(request) {
  const session = await getSession()
  session.set('username', 'half-done')
  await saveSession(session)
  if (new URL(request.url).searchParams.has('throw')) throw new Error('failed after saving the session')
  return new Response('failed after saving the session', { status: 500 })
}

'use server'
import { getSession, saveSession } from '../../lib/session.js'

// A Server Action that throws after it saved the session: Next.js sends the cookies set before the
// error with its 500. Commit last, once nothing can fail.
export async function failAfterSaving() {
  const session = await getSession()
  session.set('username', 'half-done')
  await saveSession(session)
  throw new Error('failed after saving the session')
}

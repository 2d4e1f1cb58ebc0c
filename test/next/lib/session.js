// --- recipe: Next.js session module
import { cookies } from 'next/headers'
import { createSessions, secretsFromEnv } from 'frasco'
import { commitSession, readSession } from 'frasco/jar'

export const sessions = createSessions({ secrets: secretsFromEnv(), lifetime: 14 * 24 * 3600 })

/** The request's session: readable everywhere on the server, writable where Next.js lets cookies be set. */
export async function getSession() {
  return readSession(sessions, await cookies())
}

/** Writes the session's cookies: in a Server Action or a Route Handler (not while rendering a page). */
export async function saveSession(session) {
  await commitSession(sessions, await cookies(), session) // a promise with a store, else nothing
}
// --- end recipe

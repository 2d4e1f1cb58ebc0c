// The session module of lib/session.js with the sessions in a store (the pages under /stored).
// --- recipe: Next.js session module with a store
import { cookies } from 'next/headers'
import { createSessions, secretsFromEnv } from 'frasco'
import { commitSession, readSession } from 'frasco/jar'
import { createMemoryStore } from 'frasco/stores'

// Next.js loads this module once for pages and Server Actions, once for Route Handlers and once
// for the proxy, each a module instance of its own: a store kept in memory lives on globalThis, or
// each would have its own. A store outside the process (createRedisStore) needs no such care.
const store = (globalThis.frascoSessionStore ??= createMemoryStore())

export const sessions = createSessions({ secrets: secretsFromEnv(), lifetime: 14 * 24 * 3600, store, cookie: { name: 'sid' } })

export async function getSession() {
  return readSession(sessions, await cookies())
}

export async function saveSession(session) {
  await commitSession(sessions, await cookies(), session)
}
// --- end recipe

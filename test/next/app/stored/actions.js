'use server'
import { cookies } from 'next/headers'
import { redirect } from 'next/navigation'
import { getSession, saveSession } from '../../lib/stored.js'

// The Server Actions of the session module (app/actions.js) on the store-backed sessions.
export async function storedLogin(formData) {
  const username = String(formData.get('username') ?? '').trim()
  if (username === '') redirect('/stored/login')
  const session = await getSession()
  session.regenerate()
  session.set('username', username)
  // A cookie of the app's own in the same response: the session's cookie goes out beside it.
  const jar = await cookies()
  jar.set('theme', 'dark', { path: '/', sameSite: 'lax' })
  await saveSession(session)
  redirect('/stored')
}

export async function storedLogout() {
  const session = await getSession()
  session.destroy()
  await saveSession(session)
  redirect('/stored')
}

// --- recipe: Next.js Server Actions
'use server'
import { redirect } from 'next/navigation'
import { getSession, saveSession } from '../lib/session.js'

export async function login(formData) {
  const username = String(formData.get('username') ?? '').trim()
  if (username === '') redirect('/login')
  const session = await getSession()
  session.regenerate() // a new session at login, against session fixation
  session.set('username', username)
  await saveSession(session)
  redirect('/')
}

export async function logout() {
  const session = await getSession()
  session.destroy()
  await saveSession(session)
  redirect('/')
}
// --- end recipe

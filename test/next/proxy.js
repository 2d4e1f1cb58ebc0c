// --- recipe: Next.js proxy (middleware)
import { NextResponse } from 'next/server'
import { commitSession, readSession } from 'frasco/jar'
import { sessions } from './lib/session.js'

export function proxy(request) {
  const session = readSession(sessions, request.cookies)
  const response = session.has('username') ? NextResponse.next() : NextResponse.redirect(new URL('/login', request.url))
  // Writes only when needed: deletes a cookie that did not verify, renews one due for it.
  commitSession(sessions, response.cookies, session)
  return response
}

export const config = { matcher: ['/private/:path*'] }
// --- end recipe

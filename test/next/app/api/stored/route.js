import { getSession } from '../../../lib/stored.js'

export async function GET() {
  const session = await getSession()
  return Response.json({ username: session.get('username') ?? null })
}

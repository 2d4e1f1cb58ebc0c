// --- recipe: Next.js route handler
import { getSession } from '../../../lib/session.js'

export async function GET() {
  const session = await getSession()
  return Response.json({ username: session.get('username') ?? null })
}
// --- end recipe

import { getSession, saveSession } from '../../lib/session.js'

// A Server Component may read the session but not write it: Next.js sends the page's headers
// before (or without) running it. frasco/jar says so with a TypeError, which fails the render and
// reaches the server's log.
export default async function Broken() {
  const session = await getSession()
  session.set('visits', Number(session.get('visits') ?? 0) + 1)
  await saveSession(session)
  return <p>unreachable</p>
}

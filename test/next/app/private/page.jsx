import { getSession } from '../../lib/session.js'

// The proxy (proxy.js) sends a logged-out visitor to /login before this renders.
export default async function Private() {
  const session = await getSession()
  return (
    <main>
      <p>Private page of {session.get('username')}</p>
    </main>
  )
}

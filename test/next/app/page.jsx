// --- recipe: Next.js page
import { logout } from './actions.js'
import { getSession } from '../lib/session.js'

export default async function Home() {
  const session = await getSession()
  const username = session.get('username')
  if (username === undefined) {
    return (
      <main>
        <p>You are not logged in</p>
        <a href="/login">Log in</a>
      </main>
    )
  }
  return (
    <main>
      <p>Logged in as {username}</p>
      <form action={logout}>
        <button type="submit">Log out</button>
      </form>
    </main>
  )
}
// --- end recipe

import { storedLogout } from './actions.js'
import { getSession } from '../../lib/stored.js'

export default async function Stored() {
  const session = await getSession()
  const username = session.get('username')
  if (username === undefined) return <p>You are not logged in</p>
  return (
    <main>
      <p>Logged in as {username}</p>
      <form action={storedLogout}>
        <button type="submit">Log out</button>
      </form>
    </main>
  )
}

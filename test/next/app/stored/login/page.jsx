import { storedLogin } from '../actions.js'

export default function StoredLogin() {
  return (
    <form action={storedLogin}>
      <input type="text" name="username" required />
      <button type="submit">Log in</button>
    </form>
  )
}

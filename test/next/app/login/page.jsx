// --- recipe: Next.js login page
import { login } from '../actions.js'

export default function Login() {
  return (
    <form action={login}>
      <input type="text" name="username" required />
      <button type="submit">Log in</button>
    </form>
  )
}
// --- end recipe

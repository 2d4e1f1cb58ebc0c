import { failAfterSaving } from './actions.js'

export default function Fail() {
  return (
    <form action={failAfterSaving}>
      <button type="submit">Fail</button>
    </form>
  )
}

/**
 * What `req.session` and `req.user` are in the Express apps of these tests: one declaration,
 * because TypeScript merges it into Express's global `Request` for every file that sees it.
 */
import type { Session } from '../../src/session.js'

declare global {
  // Express's own augmentation point (`@types/express-serve-static-core`).
  namespace Express {
    interface Request {
      session: Session<{ username: string; returnTo: string; messages: string[] }>
    }
    // Passport's `req.user` (`@types/passport`).
    interface User {
      id: string
      username: string
    }
  }
}

export {}

// The Next.js app of next.test.ts. It imports Frasco by its package name ('frasco', 'frasco/jar'),
// as an application does: the app sits inside the package, so the name resolves through the
// package's own `exports` to dist/ (built before the tests run), with Turbopack as with Node.
import { fileURLToPath } from 'node:url'

/** The repository: its node_modules hold next and react, its package.json names Frasco. */
const repository = fileURLToPath(new URL('../..', import.meta.url))

/** @type {import('next').NextConfig} */
const config = {
  // The build output stays in ./.next (ignored by git); the root is said rather than guessed.
  turbopack: { root: repository },
  outputFileTracingRoot: repository,
  poweredByHeader: false,
  images: { unoptimized: true },
}

export default config

#!/usr/bin/env node
// The `frasco` binary. All logic lives in lib/cli.ts, which the tests run in-process.
import { main } from './lib/cli.js'

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return ''
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

main(process.argv.slice(2), {
  stdin: readStdin,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
}).then(
  (code) => {
    process.exitCode = code
  },
  (error: unknown) => {
    process.stderr.write(`frasco: unexpected error: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 70
  },
)

#!/usr/bin/env node
// The `frasco` binary. All logic lives in main.ts and the modules it calls, which the tests run
// in-process.
import { StringDecoder } from 'node:string_decoder'
import { MAX_STDIN } from './io.js'
import { main } from './main.js'

async function readStdin(): Promise<string> {
  if (process.stdin.isTTY) return ''
  // Decoded as it arrives (a character split between two chunks is kept whole), so the length is
  // the one main() checks.
  const decoder = new StringDecoder('utf8')
  let text = ''
  for await (const chunk of process.stdin) {
    text += decoder.write(chunk as Buffer)
    // Past the limit, main() refuses the input whatever follows: stop reading (leaving the loop
    // destroys stdin) rather than buffer an endless pipe. The text still exceeds the limit, so
    // main() answers exit code 2 as for any input too large.
    if (text.length > MAX_STDIN) return text
  }
  return text + decoder.end()
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

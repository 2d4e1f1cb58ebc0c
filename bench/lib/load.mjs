// A keep-alive HTTP/1.1 load generator, run as a child process of bench/http.mjs so that it gets
// its own event loop (and, on a 2-core machine, the other core). Each of `connections` sockets
// sends one request, waits for the whole response, and sends the next; loopback only.
//
// Messages in:  { type: 'run', port, ms, connections, request }  |  { type: 'exit' }
// Messages out: { completed, errors, ms }

import net from 'node:net'
import { performance } from 'node:perf_hooks'

const CHUNKED_END = '\r\n0\r\n\r\n'

// Length of the first complete response in `text`, or -1 if it has not all arrived yet.
function responseLength(text) {
  const headEnd = text.indexOf('\r\n\r\n')
  if (headEnd === -1) return -1
  const head = text.slice(0, headEnd).toLowerCase()
  const lengthAt = head.indexOf('\r\ncontent-length:')
  if (lengthAt !== -1) {
    const total = headEnd + 4 + Number.parseInt(head.slice(lengthAt + 17), 10)
    return text.length >= total ? total : -1
  }
  if (head.includes('\r\ntransfer-encoding: chunked')) {
    // The bodies here are short and never contain the terminator themselves.
    const end = text.indexOf(CHUNKED_END, headEnd + 2)
    return end === -1 ? -1 : end + CHUNKED_END.length
  }
  return headEnd + 4
}

function run({ port, ms, connections, request }) {
  return new Promise((resolve) => {
    const bytes = Buffer.from(request, 'latin1')
    const started = performance.now()
    const deadline = started + ms
    let completed = 0
    let errors = 0
    let open = connections
    for (let c = 0; c < connections; c++) {
      const socket = net.connect(port, '127.0.0.1')
      socket.setNoDelay(true)
      let pending = ''
      socket.on('connect', () => socket.write(bytes))
      socket.on('data', (chunk) => {
        pending += chunk.toString('latin1')
        for (;;) {
          const length = responseLength(pending)
          if (length === -1) return
          if (!pending.startsWith('HTTP/1.1 200 ')) errors++
          pending = pending.slice(length)
          // Responses finishing after the deadline are not counted: the rate is over `ms` exactly.
          if (performance.now() >= deadline) {
            socket.end()
            return
          }
          completed++
          socket.write(bytes)
        }
      })
      socket.on('error', () => errors++)
      socket.on('close', () => {
        if (--open === 0) resolve({ completed, errors, ms })
      })
    }
  })
}

process.on('message', (message) => {
  if (message.type === 'exit') process.exit(0)
  if (message.type === 'run') run(message).then((result) => process.send(result))
})

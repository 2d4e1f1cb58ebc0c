// Just enough of IncomingMessage / ServerResponse for session middleware, kept in memory: the
// bench drives middleware without sockets (bench/ab.mjs, bench/peers/run.mjs).

/** A request carrying `cookie`, over plain http. */
export function mockRequest(cookie) {
  return { headers: { cookie }, connection: { encrypted: false }, socket: { encrypted: false }, method: 'GET', url: '/' }
}

/** A response whose headers are kept in an object; writeHead and end do nothing. */
export function mockResponse() {
  const headers = Object.create(null)
  return {
    headersSent: false,
    statusCode: 200,
    headers,
    getHeader: (name) => headers[name.toLowerCase()],
    setHeader(name, value) {
      headers[name.toLowerCase()] = value
      return this
    },
    appendHeader(name, value) {
      const key = name.toLowerCase()
      headers[key] = (headers[key] === undefined ? [] : [].concat(headers[key])).concat(value)
      return this
    },
    removeHeader(name) {
      delete headers[name.toLowerCase()]
    },
    writeHead() {
      return this
    },
    end() {},
  }
}

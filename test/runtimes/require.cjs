// CommonJS consumers: require() of the built ES modules (require(esm)). Node loads ES modules from
// require() without a flag from 20.19 and 22.12 on; Bun and Deno always have. On an older Node this
// file fails with ERR_REQUIRE_ESM, which test/runtimes.test.ts expects there.
'use strict'
const assert = require('node:assert/strict')
const { createSerializer, createSessions } = require('../../dist/index.js')
const { withSessions } = require('../../dist/adapters/fetch.js')
const { sessionMiddleware } = require('../../dist/adapters/node.js')
const { createFlaskCodec } = require('../../dist/flask/index.js')

const secrets = 'commonjs-consumer-secret-0123456789-abcdefghij'
const serializer = createSerializer({ secrets, purpose: 'cjs', encrypt: true })
assert.deepEqual(serializer.unsign(serializer.sign({ team: 'core' })), { team: 'core' })
const sessions = createSessions({ secrets })
const session = sessions.read(null)
session.set('user', 'ada')
assert.equal(sessions.read(sessions.commit(session).setCookie[0].split(';')[0]).get('user'), 'ada')
const flask = createFlaskCodec({ secrets: 'flask-secret' })
assert.equal(flask.verify(flask.sign({ a: 1 })).ok, true)
assert.equal(typeof withSessions, 'function')
assert.equal(typeof sessionMiddleware, 'function')

const name = globalThis.Deno ? 'deno' : globalThis.Bun ? 'bun' : 'node'
const version = globalThis.Deno ? globalThis.Deno.version.deno : globalThis.Bun ? globalThis.Bun.version : process.versions.node
console.log(`require ${name} ${version}: ok`)

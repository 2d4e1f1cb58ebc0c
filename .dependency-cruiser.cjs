// @ts-check
/**
 * The module layering of src/, checked by `npm run lint:deps` (and so by `npm test`).
 *
 * Each layer may import its own layer or lower ones, never a higher one; no two modules may import
 * each other, even for a type (the shared piece belongs lower down). Every file in src/ must be
 * placed in exactly one layer here, so a new module's place is a decision, not an accident.
 * Paths are relative to the directory depcruise runs in (the repository root).
 */

/** Layers from the bottom up; each entry is a list of path patterns. */
const LAYERS = [
  {
    name: 'L1-foundations',
    paths: [
      '^src/(keyring|encoding|errors)[.]ts$',
      '^src/lib/(compare|hmac|buffers|options|result|format|vary|report)[.]ts$',
    ],
  },
  {
    // The session stores (src/stores/) import only L1 (lib/options); they sit here rather than in L1
    // so that no foundation can come to depend on a store.
    name: 'L2-tokens-stores',
    paths: [
      '^src/(signer|serializer)[.]ts$',
      '^src/lib/(token|seal|xaes|codec)[.]ts$',
      '^src/flask/(itsdangerous|json|python-json)[.]ts$',
      '^src/stores/(?!index[.]ts$)',
    ],
  },
  {
    name: 'L3-session-cookie-formats',
    paths: ['^src/session[.]ts$', '^src/cookie/cookie[.]ts$', '^src/formats/', '^src/flask/(format|codec)[.]ts$'],
  },
  {
    // csrf.ts reads and writes a session (L3) and is used by the adapters (L5); flask/csrf.ts
    // implements csrf.ts's token scheme for Flask-WTF.
    name: 'L4-manager',
    paths: ['^src/(sessions|csrf)[.]ts$', '^src/manager/', '^src/flask/csrf[.]ts$'],
  },
  { name: 'L5-adapters', paths: ['^src/adapters/'] },
  {
    name: 'L6-entries',
    paths: ['^src/index[.]ts$', '^src/cookie/index[.]ts$', '^src/flask/index[.]ts$', '^src/stores/index[.]ts$', '^src/cli/'],
  },
]

/** Entry points: loaded by users or the shell, never by another module. */
const ENTRIES = ['^src/index[.]ts$', '^src/cookie/index[.]ts$', '^src/flask/index[.]ts$', '^src/stores/index[.]ts$', '^src/cli/bin[.]ts$']

const PLACED = LAYERS.flatMap((layer) => layer.paths)

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const upward = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `no-upward-import-from-${layer.name}`,
  comment: `${layer.name} may import only ${LAYERS.slice(0, index + 1).map((l) => l.name).join(', ')}`,
  severity: 'error',
  from: { path: layer.paths },
  to: { path: LAYERS.slice(index + 1).flatMap((l) => l.paths) },
}))

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'two modules import each other (type-only imports count): move the shared piece down',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    ...upward,
    {
      name: 'no-flask-outside-flask',
      comment: "only src/flask/ and the CLI may load Flask modules: 'frasco' must not load them",
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/(flask|cli)/' },
      to: { path: '^src/flask/' },
    },
    {
      name: 'no-import-of-entry-points',
      comment: 'entry barrels and the bin are for users; import the module that defines the name',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: ENTRIES },
    },
    {
      name: 'node-http-only-in-adapters',
      comment: 'only src/adapters/ may import node:http, node:tls and the other network modules',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/adapters/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(http|https|http2|tls|net)$' },
    },
    {
      name: 'module-not-in-a-layer',
      comment: 'this file imports something but has no layer: add it to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: { path: '^src/', pathNot: PLACED },
      to: {},
    },
    {
      name: 'import-of-module-not-in-a-layer',
      comment: 'the imported file has no layer: add it to LAYERS in .dependency-cruiser.cjs',
      severity: 'error',
      from: {},
      to: { path: '^src/', pathNot: PLACED },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'an import depcruise cannot resolve is an edge the layer rules cannot see',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'no-orphans',
      comment: 'nothing imports this file and it imports nothing: remove it, or import it',
      severity: 'error',
      from: { orphan: true, path: '^src/' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
}

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseServerKeys } from './address.js'
import { COREDNS_PLUGINS, hashCorefile, parseCorefile, type ParseOptions } from './parser.js'
import { assertError, shape } from './test-helpers.js'

const KNOWN: ReadonlySet<string> = new Set([
  'whoami', 'log', 'errors', 'cache', 'forward', 'kubernetes', 'health', 'ready', 'reload',
  'prometheus', 'loop', 'loadbalance', 'bind', 'hosts', 'template', 'rewrite',
])
const noFiles = (p: string): string => {
  throw Object.assign(new Error(`ENOENT: no such file or directory, open '${p}'`), { code: 'ENOENT' })
}
function parse(text: string, opts: ParseOptions = {}) {
  return parseCorefile(text, 'Corefile', { knownDirectives: KNOWN, env: {}, readFile: noFiles, listDir: () => [], isDirectory: () => false, ...opts })
}
const keysOf = (text: string, opts: ParseOptions = {}) =>
  parse(text, opts).blocks.map((b) => b.keys.map((k) => k.text))

// --- server blocks and keys -----------------------------------------------------------------

test('parses blocks, keys and directive lines with positions', () => {
  const p = parse('.:53 {\n    errors\n    forward . /etc/resolv.conf\n}\nexample.org:1053 {\n  whoami\n}\n')
  assert.equal(p.blocks.length, 2)
  const [b1, b2] = p.blocks
  assert.deepEqual(b1!.keys.map((k) => [k.text, k.line, k.col]), [['.:53', 1, 1]])
  assert.deepEqual(shape(b1!.directives), ['errors', 'forward . /etc/resolv.conf'])
  const fwd = b1!.directives[1]!
  assert.deepEqual([fwd.token.line, fwd.token.col, fwd.args[1]!.col], [3, 5, 15])
  assert.equal(b1!.file, 'Corefile')
  assert.deepEqual(shape(b2!.directives), ['whoami'])
})

test('keys: whitespace and commas separate, a trailing comma continues on the next line', () => {
  assert.deepEqual(keysOf('a.org b.org, c.org {\n}'), [['a.org', 'b.org', 'c.org']])
  assert.deepEqual(keysOf('a.org,\n  b.org,\n  c.org {\n whoami\n}'), [['a.org', 'b.org', 'c.org']])
  assert.deepEqual(keysOf('a.org ,b.org {\n}'), [['a.org', ',b.org']])
  assert.deepEqual(keysOf('a.org , b.org {\n}'), [['a.org', 'b.org']])
})

test('keys: empty keys from "" are skipped; a block with only empty keys is dropped', () => {
  assert.deepEqual(keysOf('"" a.org "" {\n whoami\n}'), [['a.org']])
  assert.deepEqual(keysOf('""\n{\n whoami\n}\nb.org {\n}'), [['b.org']])
  assert.deepEqual(keysOf('{$UNSET}:53 {\n}'), [[':53']])
})

test('the opening brace may stand alone on the line after the keys', () => {
  const p = parse('example.org\n{\n  whoami\n}\nexample.net\n{\n log\n}')
  assert.deepEqual(p.blocks.map((b) => [b.keys[0]!.text, shape(b.directives)]), [
    ['example.org', ['whoami']],
    ['example.net', ['log']],
  ])
})

test('without a brace the rest of the file is the body of a single block', () => {
  const p = parse('example.org:53\nwhoami\nlog . "{name}"')
  assert.equal(p.blocks.length, 1)
  assert.deepEqual(shape(p.blocks[0]!.directives), ['whoami', 'log . {name}'])
  assert.deepEqual(keysOf('localhost'), [['localhost']])
  // a second key line is then an unknown directive
  assertError(() => parse('a.org\nwhoami\nb.org\nlog'), "Corefile:3:1 - Error during parsing: Unknown directive 'b.org'")
})

test('a block with keys and no directives is legal; `{}` is a key, not an empty block', () => {
  const p = parse('example.org {\n}\n')
  assert.deepEqual(p.blocks.map((b) => [b.keys.length, b.directives.length]), [[1, 0]])
  assert.deepEqual(keysOf('example.org {}'), [['example.org', '{}']])
})

test('the closing brace of a block may be followed by the next block on the same line', () => {
  assert.deepEqual(keysOf('a.org {\n whoami\n} b.org {\n log\n}'), [['a.org'], ['b.org']])
})

test('all occurrences of a directive stay in file order', () => {
  const p = parse('. {\n forward a.org 1.1.1.1\n cache\n forward . 8.8.8.8\n forward b.org 9.9.9.9\n}')
  assert.deepEqual(shape(p.blocks[0]!.directives), [
    'forward a.org 1.1.1.1',
    'cache',
    'forward . 8.8.8.8',
    'forward b.org 9.9.9.9',
  ])
})

test('directive blocks nest to any depth and keep their line structure', () => {
  const p = parse(`. {
  kubernetes cluster.local in-addr.arpa {
    pods insecure
    fallthrough in-addr.arpa ip6.arpa
    deep a {
      deeper b {
        x 1 2
      }
      y
    }
  }
  cache {
  }
  health { lameduck 5s
  }
}`)
  const ds = p.blocks[0]!.directives
  assert.deepEqual(shape(ds), [
    ['kubernetes cluster.local in-addr.arpa', [
      'pods insecure',
      'fallthrough in-addr.arpa ip6.arpa',
      ['deep a', [['deeper b', ['x 1 2']], 'y']],
    ]],
    ['cache', []],
    ['health', ['lameduck 5s']],
  ])
  assert.equal(ds[0]!.open!.col, 41)
  assert.deepEqual([ds[0]!.block![2]!.block![1]!.token.line, ds[0]!.block![2]!.block![1]!.token.col], [9, 7])
  assert.equal(ds[2]!.block![0]!.args[0]!.text, '5s')
})

test('`cache { }` on one line is an empty block', () => {
  const p = parse('. {\n cache { }\n}')
  assert.deepEqual(shape(p.blocks[0]!.directives), [['cache', []]])
})

// --- errors ---------------------------------------------------------------------------------

test('unknown directive (fatal) names file:line:col; CoreDNS plugins we lack say so', () => {
  assertError(() => parse('. {\n  whoami\n  bogus 1\n}'), "Corefile:3:3 - Error during parsing: Unknown directive 'bogus'")
  assertError(
    () => parse('. {\n    etcd\n}'),
    "Corefile:2:5 - Error during parsing: Unknown directive 'etcd' (CoreDNS plugin not supported by this server)",
  )
  // without knownDirectives any name is accepted
  const p = parseCorefile('. {\n bogus 1\n}', 'Corefile', { env: {} })
  assert.deepEqual(shape(p.blocks[0]!.directives), ['bogus 1'])
})

test('the CoreDNS plugin list is the full 1.14 order', () => {
  assert.equal(COREDNS_PLUGINS.length, 60)
  assert.equal(COREDNS_PLUGINS[0], 'root')
  assert.equal(COREDNS_PLUGINS[COREDNS_PLUGINS.length - 1], 'nomad')
  assert.ok(COREDNS_PLUGINS.includes('k8s_external'))
})

test('a `{` on the line after a directive is a directive named `{`', () => {
  assertError(
    () => parse('. {\n  forward . 1.1.1.1\n  {\n    max_concurrent 10\n  }\n}'),
    "Corefile:3:3 - Error during parsing: Unknown directive '{'",
  )
  assertError(
    () => parseCorefile('. {\n  forward . 1.1.1.1\n  {\n  }\n}', 'Corefile', { env: {} }),
    "Corefile:3:3 - Error during parsing: Unknown directive '{'",
  )
})

test('a stray `}` reports no matching opening brace', () => {
  assertError(
    () => parse('example.org { whoami }'),
    "Corefile:1:22 - Error during parsing: Unexpected '}' because no matching opening brace",
  )
  assertError(
    () => parse('localhost\n  log {\n  } }'),
    "Corefile:3:5 - Error during parsing: Unexpected '}' because no matching opening brace",
  )
  assertError(
    () => parse('localhost\n  whoami\n}\n'),
    "Corefile:3:1 - Error during parsing: Unexpected '}' because no matching opening brace",
  )
})

test('missing `}` reports Unexpected EOF at the last token', () => {
  assertError(() => parse('. {\n  cache {\n    success 10'), 'Corefile:3:13 - Error during parsing: Unexpected EOF')
  assertError(() => parse('. {\n  whoami\n'), 'Corefile:2:3 - Error during parsing: Unexpected EOF')
  assertError(() => parse('(snip) {\n  whoami\n'), 'Corefile:2:3 - Error during parsing: Unexpected EOF')
})

test('dangling comma: EOF → Unexpected EOF, `{` → check for extra comma', () => {
  assertError(() => parse('a.org, b.org,'), 'Corefile:1:8 - Error during parsing: Unexpected EOF')
  assertError(
    () => parse('a.org,\n  {\n}'),
    "Corefile:2:3 - Error during parsing: Expected another address but had '{' - check for extra comma",
  )
})

test('a one-line nested block closes on its own line (CoreDNS accepts `{ max_concurrent 1000 }`)', () => {
  const p = parse('. {\n  forward . /etc/resolv.conf { max_concurrent 1000 }\n  cache {  success 5000 }\n}')
  const [fwd, cache] = p.blocks[0]!.directives
  assert.equal(fwd!.block!.length, 1)
  assert.equal(fwd!.block![0]!.name, 'max_concurrent')
  assert.deepEqual(fwd!.block![0]!.args.map((a) => a.text), ['1000'])
  assert.deepEqual(cache!.block![0]!.args.map((a) => a.text), ['5000'])
})

test('tokens after a block-closing `}` on the same line are rejected', () => {
  assertError(
    () => parse('. {\n  cache {\n  } 30\n}'),
    "Corefile:3:5 - Error during parsing: Unexpected token '30' after '}', expecting a new line",
  )
})

test('a `{` at the start of a nested line is rejected', () => {
  assertError(
    () => parse('. {\n  cache {\n    {\n    }\n  }\n}'),
    "Corefile:3:5 - Error during parsing: Unexpected '{' at the start of a line, expecting a name (a block opens on its directive's line)",
  )
})

// --- snippets -------------------------------------------------------------------------------

test('snippets are spliced where imported, at directive and nested level', () => {
  const p = parse(`(common) {
  errors
  log . "{remote}"
}
(opts)
{
  max_concurrent 10
  expire 5s
}
. {
  whoami
  import common
  forward . 1.1.1.1 {
    import opts
    policy random
  }
}`)
  assert.equal(p.blocks.length, 1)
  assert.deepEqual(shape(p.blocks[0]!.directives), [
    'whoami',
    'errors',
    'log . {remote}',
    ['forward . 1.1.1.1', ['max_concurrent 10', 'expire 5s', 'policy random']],
  ])
  const err = p.blocks[0]!.directives[1]!
  assert.deepEqual([err.token.line, err.token.col], [2, 3])
})

test('a snippet can hold whole server blocks', () => {
  const p = parse('(srv) {\n  a.org {\n    whoami\n  }\n}\nimport srv\nb.org {\n log\n}')
  assert.deepEqual(p.blocks.map((b) => b.keys[0]!.text), ['a.org', 'b.org'])
})

test('snippet bodies get env substitution when expanded', () => {
  const p = parse('(s) {\n  forward . {$UP}\n}\n. {\n  import s\n}', { env: { UP: '9.9.9.9' } })
  assert.deepEqual(shape(p.blocks[0]!.directives), ['forward . 9.9.9.9'])
})

test('a snippet must be defined before use (otherwise it is a file name)', () => {
  assertError(
    () => parse('. {\n  import late\n}\n(late) {\n  whoami\n}'),
    'Corefile:2:10 - Error during parsing: File to import not found: late',
  )
})

test('redeclaring a snippet is fatal', () => {
  assertError(
    () => parse('(s) {\n whoami\n}\n(s) {\n log\n}'),
    'Corefile:4:1 - Error during parsing: redeclaration of previously declared snippet s',
  )
})

test('a snippet importing itself is rejected at definition', () => {
  assertError(
    () => parse('(loop) {\n  import loop\n}\n. {\n  import loop\n}'),
    'Corefile:2:3 - Error during parsing: maximum snippet import depth (10000) exceeded',
  )
  // "import loop" not at a line start is just tokens
  const p = parse('(loop) {\n  log import loop\n}\n. {\n  import loop\n}')
  assert.deepEqual(shape(p.blocks[0]!.directives), ['log import loop'])
})

test('mutually recursive snippets hit the 10000 expansion cap', () => {
  const text = '(a) {\n  import b\n}\n(b) {\n  import a\n}\n. {\n  import a\n}'
  // the 10001st expansion is an odd one: the import in (b)
  assertError(() => parse(text), 'Corefile:5:10 - Error during parsing: maximum snippet import depth (10000) exceeded')
  assertError(
    () => parse(text, { maxSnippetExpansions: 5 }),
    'Corefile:2:10 - Error during parsing: maximum snippet import depth (5) exceeded',
  )
})

test('snippet definitions need a brace', () => {
  assertError(
    () => parse('(s)\nwhoami'),
    "Corefile:2:1 - Syntax error: Unexpected token 'whoami', expecting '{'",
  )
  // two keys on the line: not a snippet but a server block
  assert.deepEqual(keysOf('(s) whoami'), [['(s)', 'whoami']])
  assertError(() => parse('(s)'), 'Corefile:1:1 - Error during parsing: Unexpected EOF')
})

// --- import arguments -----------------------------------------------------------------------

test('import takes exactly one non-empty argument', () => {
  assertError(
    () => parse('. {\n  import\n}'),
    "Corefile:2:3 - Error during parsing: Wrong argument count or unexpected line ending after 'import'",
  )
  assertError(
    () => parse('. {\n  import a b\n}'),
    'Corefile:2:12 - Error during parsing: Import takes only one argument (glob pattern or file)',
  )
  assertError(() => parse('import ""'), 'Corefile:1:8 - Error during parsing: Import requires a non-empty filepath')
  assertError(() => parse('import {$NOPE}'), 'Corefile:1:8 - Error during parsing: Import requires a non-empty filepath')
})

test('import is only special as the first token of a line', () => {
  const p = parse('. {\n  log import x\n  hosts {\n    fallthrough import\n  }\n}')
  assert.deepEqual(shape(p.blocks[0]!.directives), ['log import x', ['hosts', ['fallthrough import']]])
})

test('import argument gets env substitution', () => {
  const p = parse('(s1) {\n  whoami\n}\n. {\n  import {$WHICH}\n}', { env: { WHICH: 's1' } })
  assert.deepEqual(shape(p.blocks[0]!.directives), ['whoami'])
})

// --- environment substitution ---------------------------------------------------------------

test('{$ENV} and {%ENV%} apply to keys, names, args, nested tokens', () => {
  const env = { ZONE: 'example.org', PORT: '1053', DIR: 'whoami', A: 'x', B: 'y', SP: 'two words' }
  const p = parse('{$ZONE}:{%PORT%} {\n  {$DIR}\n  log {$SP} {\n    class {%A%}/{$B}\n  }\n}', { env })
  assert.deepEqual(p.blocks[0]!.keys.map((k) => k.text), ['example.org:1053'])
  assert.deepEqual(shape(p.blocks[0]!.directives), ['whoami', ['log two words', ['class x/y']]])
  assert.equal(p.blocks[0]!.directives[1]!.args.length, 1) // a value with spaces stays one token
})

test('{$ENV} works inside quoted tokens and mid-token; unset is empty', () => {
  const p = parse('. {\n  log "Test {$FOO} test" a{$NOPE}b\n}', { env: { FOO: 'foobar' } })
  assert.deepEqual(p.blocks[0]!.directives[0]!.args.map((a) => a.text), ['Test foobar test', 'ab'])
})

test('env edge rules: unterminated, empty name, %-first, rescanning, Go templates', () => {
  const env = { ADDRESS: 'servername.com', PORT: '8080', INDIRECT: '{$PORT}', PCT: '{%PORT%}', x: 'X' }
  const args = (line: string): string[] =>
    parse(`. {\n  log ${line}\n}`, { env }).blocks[0]!.directives[0]!.args.map((a) => a.text)
  assert.deepEqual(args('{%ADDRESS}'), ['{%ADDRESS}'])
  assert.deepEqual(args('{$ADDRESS'), ['{$ADDRESS'])
  assert.deepEqual(args('{$}{$PORT}'), ['{$}{$PORT}'])
  assert.deepEqual(args('{%%}{%PORT%}'), ['{%%}{%PORT%}'])
  assert.deepEqual(args('{%PORT%}{$}{$PORT}'), ['8080{$}{$PORT}'])
  assert.deepEqual(args('{$PORT$}'), [''])
  assert.deepEqual(args('{$INDIRECT}'), ['8080'])
  assert.deepEqual(args('{$PCT}'), ['{%PORT%}'])
  assert.deepEqual(args('{%ADDRESS%}:{$PORT}'), ['servername.com:8080'])
  assert.deepEqual(args('"{{$x}}"'), ['{X}'])
  assert.deepEqual(args('"{{ $x }}"'), ['{{ $x }}'])
})

test('a self-referencing env value is an error, not a hang', () => {
  assertError(
    () => parse('. {\n  log {$SELF}\n}', { env: { SELF: 'a{$SELF}' } }),
    'Corefile:2:7 - Error during parsing: environment substitution of {$SELF} does not terminate (self-referencing value?)',
  )
})

// --- reference Corefiles --------------------------------------------------------------------

const EDGE = `# two keys, second on next line via comma, env port
example.org,
  example.net:{$ALT_PORT} {
    whoami
}
(snip) {
    errors
    log . "{remote} {name}"      # quoted format keeps spaces and braces
}
10.0.0.0/17 cluster.local {      # 128 reverse zones + cluster.local, one chain
    import snip
    kubernetes {
        pods verified
    }
}
`

test('spec §12 parsing edge cases: keys, 129 zones, log format', () => {
  const p = parse(EDGE, { env: { ALT_PORT: '1053' } })
  assert.equal(p.blocks.length, 2)
  const k1 = parseServerKeys(p.blocks[0]!.keys, 53)
  assert.deepEqual(k1.map((k) => `${k.scheme}://${k.zone}:${k.port}`), ['dns://example.org.:53', 'dns://example.net.:1053'])
  assert.deepEqual(shape(p.blocks[0]!.directives), ['whoami'])

  const b = p.blocks[1]!
  const k2 = parseServerKeys(b.keys, 53)
  assert.equal(k2.length, 129)
  const zones = k2.map((k) => k.zone)
  assert.equal(new Set(zones).size, 129)
  assert.equal(zones[0], '0.0.10.in-addr.arpa.')
  assert.equal(zones[127], '127.0.10.in-addr.arpa.')
  assert.equal(zones[128], 'cluster.local.')
  for (let i = 0; i < 128; i++) assert.equal(zones[i], `${i}.0.10.in-addr.arpa.`)
  assert.ok(k2.every((k) => k.port === 53 && k.scheme === 'dns'))
  assert.deepEqual(shape(b.directives), ['errors', 'log . {remote} {name}', ['kubernetes', ['pods verified']]])
  const log = b.directives[1]!
  assert.equal(log.args[1]!.quoted, true)
})

test('spec §12 edge cases without ALT_PORT: the key ends in a colon', () => {
  const p = parse(EDGE)
  assert.equal(p.blocks[0]!.keys[1]!.text, 'example.net:')
  assertError(
    () => parseServerKeys(p.blocks[0]!.keys, 53),
    'Corefile:3:3 - error inspecting server blocks: expecting data after last colon: "example.net:"',
  )
})

test('stock Kubernetes Corefile parses into the expected tree', () => {
  const p = parse(`.:53 {
    errors
    health {
        lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
        max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`)
  assert.deepEqual(shape(p.blocks[0]!.directives), [
    'errors',
    ['health', ['lameduck 5s']],
    'ready',
    ['kubernetes cluster.local in-addr.arpa ip6.arpa', ['pods insecure', 'fallthrough in-addr.arpa ip6.arpa', 'ttl 30']],
    'prometheus :9153',
    ['forward . /etc/resolv.conf', ['max_concurrent 1000']],
    'cache 30',
    'loop',
    'reload',
    'loadbalance',
  ])
})

// --- hashing --------------------------------------------------------------------------------

test('hashCorefile is stable and ignores comments/whitespace but not content or lines', () => {
  const h = (s: string, env: Record<string, string> = {}) => hashCorefile(parse(s, { env }))
  const base = h('. {\n  cache 30\n}')
  assert.match(base, /^[0-9a-f]{128}$/)
  assert.equal(h('. {\n  cache 30\n}'), base)
  assert.equal(h('. {   # comment\n  cache    30\n}'), base)
  assert.notEqual(h('. {\n  cache 31\n}'), base)
  assert.notEqual(h('. {\n\n  cache 30\n}'), base)
  assert.notEqual(h('. {\n  cache {$T}\n}', { T: '31' }), base)
  assert.equal(h('. {\n  cache {$T}\n}', { T: '30' }), base)
})

import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { hashCorefile, parseCorefile, type ParseOptions } from './parser.js'
import { assertError, shape } from './test-helpers.js'

const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'corefile-import-')))
after(() => fs.rmSync(root, { recursive: true, force: true }))

let n = 0
/** A fresh directory with the given files (paths relative to it). */
function tree(files: Record<string, string>): string {
  const dir = path.join(root, `t${n++}`)
  fs.mkdirSync(dir)
  for (const [rel, text] of Object.entries(files)) {
    const p = path.join(dir, rel)
    fs.mkdirSync(path.dirname(p), { recursive: true })
    if (rel.endsWith('/')) fs.mkdirSync(p, { recursive: true })
    else fs.writeFileSync(p, text)
  }
  return dir
}

function parseFile(file: string, opts: ParseOptions = {}) {
  return parseCorefile(fs.readFileSync(file, 'utf8'), file, { env: {}, ...opts })
}

test('relative imports resolve against the importing file, nested ones against theirs', () => {
  const dir = tree({
    'conf/Corefile': '. {\n  whoami\n  import extra/common.conf\n}\n',
    'conf/extra/common.conf': 'errors\nimport sub/more.conf\n',
    'conf/extra/sub/more.conf': 'cache 30\n',
    'extra/common.conf': 'log\n', // would be picked if resolved against the parent directory
  })
  const p = parseFile(path.join(dir, 'conf/Corefile'))
  assert.deepEqual(shape(p.blocks[0]!.directives), ['whoami', 'errors', 'cache 30'])
  const cache = p.blocks[0]!.directives[2]!
  assert.equal(cache.token.file, path.join(dir, 'conf/extra/sub/more.conf'))
  assert.deepEqual([cache.token.line, cache.token.col], [1, 1])
})

test('relative to the importing file even when the main file name is relative to cwd', () => {
  const dir = tree({ 'Corefile': 'import blocks.server\n', 'blocks.server': 'a.org {\n  whoami\n}\n' })
  const cwd = process.cwd()
  process.chdir(dir)
  try {
    const p = parseCorefile(fs.readFileSync('Corefile', 'utf8'), 'Corefile', { env: {} })
    assert.deepEqual(p.blocks.map((b) => [b.keys[0]!.text, b.file]), [['a.org', path.join(dir, 'blocks.server')]])
  } finally {
    process.chdir(cwd)
  }
})

test('glob imports: one *, leading-dot files included, byte order, directories as wildcard parts', () => {
  const dir = tree({
    'Corefile': 'import custom/*.server\nimport zones/*/Corefile\n',
    'custom/b.server': 'b.org {\n whoami\n}\n',
    'custom/.hidden.server': 'hidden.org {\n whoami\n}\n',
    'custom/A.server': 'upper.org {\n whoami\n}\n',
    'custom/a.server': 'a.org {\n whoami\n}\n',
    'custom/a.server.bak': 'bak.org {\n whoami\n}\n',
    'custom/é.server': 'e.org {\n whoami\n}\n',
    'zones/z1/Corefile': 'z1.org {\n log\n}\n',
    'zones/z0/Corefile': 'z0.org {\n log\n}\n',
    'zones/z2/other': 'nope.org {\n log\n}\n',
  })
  const p = parseFile(path.join(dir, 'Corefile'))
  assert.deepEqual(p.blocks.map((b) => b.keys[0]!.text), [
    'hidden.org', 'upper.org', 'a.org', 'b.org', 'e.org', 'z0.org', 'z1.org',
  ])
})

test('? matches exactly one character', () => {
  const dir = tree({ 'Corefile': '. {\n import part?.conf\n}\n', 'part1.conf': 'whoami\n', 'part22.conf': 'log\n' })
  assert.deepEqual(shape(parseFile(path.join(dir, 'Corefile')).blocks[0]!.directives), ['whoami'])
})

test('a glob with no match warns and imports nothing', () => {
  const dir = tree({ 'Corefile': '. {\n  whoami\n  import extra/*Corefile\n}\n' })
  const warnings: string[] = []
  const p = parseFile(path.join(dir, 'Corefile'), { warn: (m) => warnings.push(m) })
  assert.deepEqual(shape(p.blocks[0]!.directives), ['whoami'])
  assert.deepEqual(warnings, ['No files matching import glob pattern: extra/*Corefile'])
})

test('a missing plain file is fatal at the import argument', () => {
  const dir = tree({ 'Corefile': '. {\n  whoami\n  import nothere.conf\n}\n' })
  const file = path.join(dir, 'Corefile')
  assertError(() => parseFile(file), `${file}:3:10 - Error during parsing: File to import not found: nothere.conf`)
})

test('importing a directory is fatal, plainly or via a glob', () => {
  const dir = tree({ 'Corefile': 'import sub\n', 'g/Corefile': 'import *\n', 'g/d/': '', 'sub/': '' })
  assertError(
    () => parseFile(path.join(dir, 'Corefile')),
    `${path.join(dir, 'Corefile')}:1:8 - Error during parsing: Could not import ${path.join(dir, 'sub')}: is a directory`,
  )
  // the glob matches g/Corefile itself (a cycle) only after g/d, which fails first
  assertError(
    () => parseFile(path.join(dir, 'g/Corefile')),
    `${path.join(dir, 'g/Corefile')}:1:8 - Error during parsing: Could not import ${path.join(dir, 'g/d')}: is a directory`,
  )
})

test('glob restrictions: one *, one ?, no [...] classes', () => {
  const dir = tree({ 'Corefile': '' })
  const file = path.join(dir, 'Corefile')
  const run = (arg: string) => () => parseCorefile(`import ${arg}`, file, { env: {} })
  assertError(
    run('*/*.conf'),
    `${file}:1:8 - Error during parsing: Glob pattern may only contain one wildcard (*), but has others: ${dir}/*/*.conf`,
  )
  assertError(
    run('a??'),
    `${file}:1:8 - Error during parsing: Glob pattern may only contain one wildcard (*), but has others: ${dir}/a??`,
  )
  assertError(
    run('/[a-z]'),
    `${file}:1:8 - Error during parsing: Glob pattern may only contain one wildcard (*), but has others: /[a-z]`,
  )
  assertError(run('a[b'), `${file}:1:8 - Error during parsing: Failed to use import pattern a[b: syntax error in pattern`)
})

test('errors inside an imported file name that file, line and column', () => {
  const dir = tree({ 'Corefile': 'import blocks/*.server\n', 'blocks/x.server': 'x.org {\n  whoami\n    bogus\n}\n' })
  const inc = path.join(dir, 'blocks/x.server')
  assertError(
    () => parseFile(path.join(dir, 'Corefile'), { knownDirectives: new Set(['whoami']) }),
    `${inc}:3:5 - Error during parsing: Unknown directive 'bogus'`,
  )
})

test('imported tokens always start a new line; snippets defined in imports are usable later', () => {
  const dir = tree({
    'Corefile': 'import snippets.conf\n. {\n  forward . 1.1.1.1 {\n    import opts\n  }\n  import two.conf\n}\n',
    'snippets.conf': '(opts) {\n  max_concurrent 10\n}\n',
    'two.conf': 'log a\nerrors\n',
  })
  const p = parseFile(path.join(dir, 'Corefile'))
  assert.deepEqual(shape(p.blocks[0]!.directives), [['forward . 1.1.1.1', ['max_concurrent 10']], 'log a', 'errors'])
})

test('an import in key position supplies keys and blocks; env works in the path', () => {
  const dir = tree({ 'Corefile': 'import {$EXTRA}/*.server\n', 'more/k.server': 'k1.org k2.org {\n  whoami\n}\n' })
  const p = parseFile(path.join(dir, 'Corefile'), { env: { EXTRA: 'more' } })
  assert.deepEqual(p.blocks.map((b) => b.keys.map((k) => k.text)), [['k1.org', 'k2.org']])
})

test('absolute import paths are used as they are', () => {
  const dir = tree({ 'inc/abs.conf': 'whoami\n' })
  const p = parseCorefile(`. {\n  import ${path.join(dir, 'inc/abs.conf')}\n}`, '/nonexistent/Corefile', { env: {} })
  assert.deepEqual(shape(p.blocks[0]!.directives), ['whoami'])
})

test('file import cycles are capped (maximum file import depth)', () => {
  const dir = tree({ 'a.conf': 'import b.conf\n', 'b.conf': 'import a.conf\n' })
  const a = path.join(dir, 'a.conf')
  const b = path.join(dir, 'b.conf')
  // import #1 is in the main file, then even ones in a.conf and odd ones in b.conf: #21 fails in b.conf
  assertError(
    () => parseCorefile('import a.conf\n', path.join(dir, 'Corefile'), { env: {}, maxFileImports: 20 }),
    `${b}:1:8 - Error during parsing: maximum file import depth (20) exceeded`,
  )
  // default cap 100000 (in-memory files so the test stays fast)
  const files: Record<string, string> = { [a]: 'import b.conf\n', [b]: 'import a.conf\n' }
  assertError(
    () =>
      parseCorefile('import a.conf\n', path.join(dir, 'Corefile'), {
        env: {},
        readFile: (p) => files[p] ?? assert.fail(p),
        isDirectory: () => false,
      }),
    `${b}:1:8 - Error during parsing: maximum file import depth (100000) exceeded`,
  )
})

test('a file importing itself on its first line is a cycle, not two keys', () => {
  // the imported `import` has the same file and line as the import argument before it: only the
  // rule "imported tokens start a new line" makes it an import again
  const dir = tree({ 'self.conf': 'import self.conf\n' })
  const file = path.join(dir, 'self.conf')
  assertError(
    () => parseFile(file, { maxFileImports: 3 }),
    `${file}:1:8 - Error during parsing: maximum file import depth (3) exceeded`,
  )
})

test('one glob import of many files counts once against the file cap', () => {
  const files: Record<string, string> = {}
  for (let i = 0; i < 50; i++) files[`many/f${String(i).padStart(2, '0')}.conf`] = `z${i}.org {\n}\n`
  const dir = tree({ 'Corefile': 'import many/*\n', ...files })
  const p = parseFile(path.join(dir, 'Corefile'), { maxFileImports: 1 })
  assert.equal(p.blocks.length, 50)
  assert.equal(p.blocks[0]!.keys[0]!.text, 'z0.org')
})

test('hashCorefile changes when an imported file changes, and only then', () => {
  const dir = tree({ 'Corefile': '. {\n  import extra/*.conf\n}\n', 'extra/a.conf': 'cache 30\n' })
  const file = path.join(dir, 'Corefile')
  const h1 = hashCorefile(parseFile(file))
  assert.equal(hashCorefile(parseFile(file)), h1)
  fs.writeFileSync(path.join(dir, 'extra/a.conf'), 'cache 30 # comment only\n')
  assert.equal(hashCorefile(parseFile(file)), h1)
  fs.writeFileSync(path.join(dir, 'extra/a.conf'), 'cache 31\n')
  const h2 = hashCorefile(parseFile(file))
  assert.notEqual(h2, h1)
  fs.writeFileSync(path.join(dir, 'extra/b.conf'), 'log\n')
  assert.notEqual(hashCorefile(parseFile(file)), h2)
})

test('a BOM and CRLF line endings in an imported file are handled', () => {
  const dir = tree({ 'Corefile': '. {\r\n  import w.conf\r\n}\r\n', 'w.conf': '\ufeffwhoami\r\nlog . "{name}"\r\n' })
  const p = parseFile(path.join(dir, 'Corefile'))
  assert.deepEqual(shape(p.blocks[0]!.directives), ['whoami', 'log . {name}'])
})

// Project invariants: every registered plugin has its folder, README sections and tests; README
// Corefile examples parse; the version constant matches package.json.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { PLUGINS } from '../src/plugins/index.js'
import { parseCorefile } from '../src/corefile/parser.js'
import { knownDirectives } from '../src/server/config.js'
import { VERSION } from '../src/version.js'
import { repoRoot } from './helpers/proc.js'

const pluginsDir = join(repoRoot, 'src/plugins')

test('version.ts matches package.json', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }
  assert.equal(VERSION, pkg.version)
})

for (const p of PLUGINS) {
  test(`plugin ${p.name}: folder, README sections and tests`, () => {
    const dir = join(pluginsDir, p.name)
    assert.ok(existsSync(join(dir, 'setup.ts')), 'setup.ts')
    const readme = readFileSync(join(dir, 'README.md'), 'utf8')
    for (const h of ['# ' + p.name, '## Name', '## Description', '## Syntax']) assert.ok(readme.includes(h), `README has "${h}"`)
    const tests = readdirSync(dir).filter((f) => f.endsWith('.test.ts'))
    assert.ok(tests.length > 0 || ['root', 'debug', 'any', 'whoami'].includes(p.name), 'has tests in its folder')
  })
}

test('every folder under src/plugins is registered', () => {
  const names = new Set(PLUGINS.map((p) => p.name))
  for (const d of readdirSync(pluginsDir, { withFileTypes: true })) {
    if (d.isDirectory()) assert.ok(names.has(d.name), `${d.name} is in src/plugins/index.ts`)
  }
})

test('Corefile examples in plugin READMEs parse', () => {
  const known = knownDirectives()
  let n = 0
  for (const p of PLUGINS) {
    const readme = readFileSync(join(pluginsDir, p.name, 'README.md'), 'utf8')
    for (const m of readme.matchAll(/~~~ corefile\n([\s\S]*?)~~~/g)) {
      parseCorefile(m[1]!, `${p.name}/README.md`, { knownDirectives: known })
      n++
    }
  }
  assert.ok(n >= 5, `found ${n} examples`)
})

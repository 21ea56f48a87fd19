import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ConfigError, ErrCode, parseError, pluginError } from './errors.js'

const at = { file: '/etc/coredns/Corefile', line: 12, col: 5 }

test('message formats per kind, with file:line:col', () => {
  assert.equal(parseError(at, "Unknown directive 'x'").message, "/etc/coredns/Corefile:12:5 - Error during parsing: Unknown directive 'x'")
  assert.equal(pluginError(at, 'forward', 'more than 15 TOs configured: 16').message, '/etc/coredns/Corefile:12:5 - plugin/forward: more than 15 TOs configured: 16')
  assert.equal(new ConfigError("Unexpected token 'x', expecting '{'", at, ErrCode.Syntax, 'syntax').message, "/etc/coredns/Corefile:12:5 - Syntax error: Unexpected token 'x', expecting '{'")
  assert.equal(new ConfigError('zone is not a valid domain name: a..b', at, ErrCode.ServerKey, 'inspect').message, '/etc/coredns/Corefile:12:5 - error inspecting server blocks: zone is not a valid domain name: a..b')
  assert.equal(new ConfigError('cannot serve dns://a.:53 - it is already defined', at, 'ERR_CONFIG_DUPLICATE', 'plain').message, '/etc/coredns/Corefile:12:5 - cannot serve dns://a.:53 - it is already defined')
})

test('fields: code, file, line, col, kind, plugin, detail; default kind is parse', () => {
  const e = new ConfigError('boom', at)
  assert.ok(e instanceof Error)
  assert.equal(e.name, 'ConfigError')
  assert.deepEqual([e.code, e.file, e.line, e.col, e.kind, e.plugin, e.detail], ['ERR_COREFILE_PARSE', at.file, 12, 5, 'parse', null, 'boom'])
  const p = pluginError(at, 'cache', 'x')
  assert.deepEqual([p.code, p.kind, p.plugin], ['ERR_COREFILE_PLUGIN', 'plugin', 'cache'])
})

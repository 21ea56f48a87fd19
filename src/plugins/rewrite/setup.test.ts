import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { runSetup } from '../../../test/helpers/setup.js'
import { StubHandler } from '../../../test/helpers/fake.js'
import { plugin } from './setup.js'
import { Rewrite } from './handler.js'
import { ClassRule, CnameRule, EdnsLocalRule, EdnsNsidRule, EdnsSubnetRule, EdnsVariableRule, NameRule, RcodeRule, TtlRule, TypeRule } from './rules.js'
import { compileGoRegex, expandGroups, findSubmatch } from './goregex.js'
import { parseTtlRange } from './parse.js'

function rules(body: string): Rewrite['rules'] {
  const r = runSetup(plugin, body)
  return (r.make!(new StubHandler()) as Rewrite).rules
}

describe('rewrite setup: accepted rules', () => {
  const ok: Array<[string, new (...a: never[]) => unknown, string?]> = [
    ['rewrite name a.com b.com', NameRule, 'stop'],
    ['rewrite continue name a.com b.com', NameRule, 'continue'],
    ['rewrite stop name exact a.com b.com', NameRule, 'stop'],
    ['rewrite name prefix foo bar', NameRule],
    ['rewrite name suffix .a.com .b.com', NameRule],
    ['rewrite name substring a.com b.com', NameRule],
    ['rewrite name regex (.*)\\.a\\.com {1}.b.com', NameRule],
    ['rewrite name regex (.*)\\.a\\.com {1}.b.com answer auto', NameRule],
    ['rewrite name regex (.*)\\.a\\.com {1}.b.com answer name (.*)\\.b\\.com {1}.a.com', NameRule],
    ['rewrite name regex (.*)\\.a\\.com {1}.b.com answer name (.*)\\.b\\.com {1}.a.com answer value (.*)\\.b\\.com {1}.a.com', NameRule],
    ['rewrite name suffix .a.com .b.com answer auto answer value (.*)\\.b\\.com {1}.a.com', NameRule],
    ['rewrite stop {\n name regex (.*)-(us-west-1)\\.coredns\\.rocks {1}.service.{2}.consul\n answer name (.*)\\.service\\.(us-west-1)\\.consul {1}-{2}.coredns.rocks\n}', NameRule],
    ['rewrite type ANY HINFO', TypeRule],
    ['rewrite type any hinfo', TypeRule],
    ['rewrite class CH IN', ClassRule],
    ['rewrite ttl a.com 30', TtlRule],
    ['rewrite ttl regex (.*)\\.coredns\\.rocks 15', TtlRule],
    ['rewrite ttl exact a.com 30-300', TtlRule],
    ['rewrite ttl suffix .com -30', TtlRule],
    ['rewrite ttl prefix a 30-', TtlRule],
    ['rewrite rcode a.com SERVFAIL NXDOMAIN', RcodeRule],
    ['rewrite rcode a.com 2 0', RcodeRule],
    ['rewrite rcode regex (regex)\\.rcode\\.(coredns)\\.(rocks) FORMERR NOERROR', RcodeRule],
    ['rewrite cname exact a.com. b.com.', CnameRule],
    ['rewrite cname a.com. b.com.', CnameRule],
    ['rewrite cname regex (.*)\\.a\\.com\\. {1}.b.com.', CnameRule],
    ['rewrite edns0 local set 0xffee 0x61626364', EdnsLocalRule],
    ['rewrite edns0 local append 0xffee abcd', EdnsLocalRule],
    ['rewrite edns0 local replace 65518 abcd revert', EdnsLocalRule],
    ['rewrite edns0 local unset 0xffee', EdnsLocalRule],
    ['rewrite edns0 local set 0xffee {client_ip}', EdnsVariableRule],
    ['rewrite edns0 local set 0xffee {qname}', EdnsVariableRule],
    ['rewrite edns0 local set 0xffee {some-plugin/some-label}', EdnsVariableRule],
    ['rewrite edns0 nsid set', EdnsNsidRule],
    ['rewrite edns0 nsid unset', EdnsNsidRule],
    ['rewrite edns0 subnet set 24 56', EdnsSubnetRule],
    ['rewrite edns0 subnet unset', EdnsSubnetRule],
  ]
  for (const [body, cls, mode] of ok) {
    test(JSON.stringify(body), () => {
      const rs = rules(body)
      assert.equal(rs.length, 1)
      assert.ok(rs[0] instanceof cls, String(rs[0]))
      if (mode !== undefined) assert.equal(rs[0]!.mode, mode)
    })
  }
  test('several rewrite lines form one ordered rule list', () => {
    const rs = rules('rewrite continue name a.com b.com\nrewrite type ANY HINFO\nrewrite ttl a.com 30')
    assert.equal(rs.length, 3)
    assert.ok(rs[0] instanceof NameRule && rs[1] instanceof TypeRule && rs[2] instanceof TtlRule)
  })
  test('name rules normalise names: lower-case, fully qualified', () => {
    const r = rules('rewrite name Foo.EXAMPLE.com Bar.example.com')[0] as NameRule
    assert.equal(r.match.from, 'foo.example.com.')
    assert.equal(r.to, 'bar.example.com.')
    assert.equal(r.auto, true)
    const p = rules('rewrite name prefix foo bar')[0] as NameRule
    assert.equal(p.match.from, 'foo.')
    assert.equal(p.auto, false)
  })
})

describe('rewrite setup: errors', () => {
  const bad: Array<[string, string, number, number]> = [
    ['rewrite', 'no rule type specified for rewrite', 2, 1],
    ['rewrite stop', 'no rule type specified for rewrite', 2, 9],
    ['rewrite nameFoo a.com b.com', 'invalid rule type "nameFoo"', 2, 9],
    ['rewrite answer name a b', 'response rewrites must begin with a name rule', 2, 9],
    ['rewrite name a.com', 'too few arguments for a name rule', 2, 9],
    ['rewrite name bad a.com b.com', 'name rule supports only exact, prefix, suffix, substring, and regex name matching, received: bad', 2, 14],
    ['rewrite name regex (.*\\.a\\.com {1}.b.com', 'invalid regex matching pattern', 2, 20],
    ['rewrite name regex (.*)\\.a\\.com {1}.{2}.b.com', 'uses more subexpressions than its corresponding matching regex pattern', 2, 20],
    ['rewrite name regex (?=a)b c', 'invalid regex matching pattern', 2, 20],
    ['rewrite name regex a(?i:b) c', 'flags inside the pattern', 2, 20],
    ['rewrite name regex (.*) {1} answer', 'invalid arguments for regex rule', 2, 29],
    ['rewrite name regex (.*) {1} answer bogus a b', 'invalid type "bogus" for answer rule for regex rule', 2, 36],
    ['rewrite name regex (.*) {1} answer name (.*)', 'name answer rule for regex rule: 2 arguments required', 2, 36],
    ['rewrite name regex (.*) {1} extra name a b', 'exceeded the number of arguments for a non-regex regex rule', 2, 29],
    ['rewrite name regex (.*) {1} answer auto answer name (.*) {1}', 'auto name answer rule cannot be combined with explicit name anwer rules', 2, 29],
    ['rewrite name regex (.*) {1} answer name (.*) {1}.{2}', 'name answer rule for regex rule: the rewrite regex pattern', 2, 41],
    ['rewrite type ANY', 'type rules must have exactly two arguments', 2, 9],
    ['rewrite type ANY HINFO A', 'type rules must have exactly two arguments', 2, 9],
    ['rewrite type XXX A', 'invalid type "XXX"', 2, 14],
    ['rewrite type A YYY', 'invalid type "YYY"', 2, 16],
    ['rewrite class CH', 'class rules must have exactly two arguments', 2, 9],
    ['rewrite class XX IN', 'invalid class "XX"', 2, 15],
    ['rewrite ttl a.com', 'too few (1) arguments for a ttl rule', 2, 9],
    ['rewrite ttl a.com abc', "invalid TTL 'abc' for a ttl rule", 2, 19],
    ['rewrite ttl a.com 300-30', "invalid TTL '300-30' for a ttl rule", 2, 19],
    ['rewrite ttl a.com -', "invalid TTL '-' for a ttl rule", 2, 19],
    ['rewrite ttl bogus a.com 30', 'ttl rule supports only exact, prefix, suffix, substring, and regex name matching', 2, 13],
    ['rewrite ttl regex ( 30', 'invalid regex pattern in a ttl rule: (', 2, 19],
    ['rewrite ttl exact a.com 30 x', 'many few arguments for a ttl rule', 2, 28],
    ['rewrite rcode a.com 2', 'too few (2) arguments for a rcode rule', 2, 9],
    ['rewrite rcode a.com random 0', "invalid matching RCODE 'random' for a rcode rule", 2, 21],
    ['rewrite rcode a.com 0 nothing', "invalid replacement RCODE 'nothing' for a rcode rule", 2, 23],
    ['rewrite rcode exact a.com 2 1 0', 'many few arguments for a rcode rule', 2, 31],
    ['rewrite cname a.com.', 'too few (1) arguments for a cname rule', 2, 9],
    ['rewrite cname bogus a. b.', 'unknown cname rewrite type: bogus', 2, 15],
    ['rewrite edns0 local', 'too few arguments for an EDNS0 rule', 2, 9],
    ['rewrite edns0 local bogus 0xffee abcd', 'invalid action: "bogus"', 2, 21],
    ['rewrite edns0 local set 0xffee', 'EDNS0 local rules require exactly three args', 2, 21],
    ['rewrite edns0 local set 0xfffff abcd', 'invalid syntax', 2, 25],
    ['rewrite edns0 local set 0xffee 0xzz', 'encoding/hex', 2, 32],
    ['rewrite edns0 local set 0xffee {bogus}', 'unsupported variable name "{bogus}"', 2, 32],
    ['rewrite edns0 nsid set junk', 'EDNS0 NSID rules do not accept args', 2, 24],
    ['rewrite edns0 subnet set 24', 'EDNS0 subnet rules require exactly three args', 2, 22],
    ['rewrite edns0 subnet set 33 56', 'invalid IPv4 bit mask length 33', 2, 26],
    ['rewrite edns0 subnet set 24 129', 'invalid IPv6 bit mask length 129', 2, 29],
    ['rewrite edns0 bogus set', 'invalid rule type "bogus"', 2, 15],
    ['rewrite name a.com b.com {\n type A AAAA\n}', 'unexpected block after a complete rule', 2, 26],
  ]
  for (const [body, msg, line, col] of bad) {
    test(`${JSON.stringify(body)} → "${msg}" at ${line}:${col}`, () => {
      assert.throws(
        () => runSetup(plugin, body),
        (e: Error & { line?: number; col?: number }) => {
          assert.ok(e.message.includes(msg), e.message)
          assert.ok(e.message.includes('plugin/rewrite: '), e.message)
          assert.equal(`${e.line}:${e.col}`, `${line}:${col}`, e.message)
          return true
        },
      )
    })
  }
})

describe('Go regexp translation', () => {
  const cases: Array<[string, string, string[] | null]> = [
    ['(?P<svc>[a-z]+)\\.(?P<ns>[a-z]+)\\.svc', 'web.prod.svc.cluster.local.', ['web.prod.svc', 'web', 'prod']],
    ['(?i)^WEB\\.', 'web.example.', ['web.']],
    ['\\Aab\\z', 'ab', ['ab']],
    ['\\Aab\\z', 'abc', null],
    ['[[:digit:]]+', 'ip-10-0-0-1', ['10']],
    ['\\Qa.b\\E', 'axb a.b', ['a.b']],
    ['a{2,3}', 'aaaa', ['aaa']],
    ['x{', 'x{', ['x{']],
    ['(a)|(b)', 'b', ['b', '', 'b']],
    ['\\pL+', 'abc1', ['abc']],
  ]
  for (const [re, s, want] of cases) {
    test(`${re} on ${s}`, () => {
      const g = compileGoRegex(re)
      assert.notEqual(typeof g, 'string', String(g))
      assert.deepEqual(findSubmatch(g as Exclude<typeof g, string>, s), want)
    })
  }
  for (const re of ['(?=x)', '(?<!x)', '\\1', 'a{1001}', '(?U)a', '[a', '(?i:a)']) {
    test(`refuses ${re}`, () => assert.equal(typeof compileGoRegex(re), 'string'))
  }
  test('named groups are reported like SubexpNames', () => {
    const g = compileGoRegex('(?P<a>x)(y)')
    assert.ok(typeof g !== 'string')
    assert.deepEqual(g.names, ['', 'a', ''])
    assert.equal(g.groups, 2)
  })
  test('{n} expansion', () => assert.equal(expandGroups('{1}.svc.{2}.{1}', ['x', 'a', 'b']), 'a.svc.b.a'))
  test('TTL ranges', () => {
    assert.deepEqual(parseTtlRange('30'), [30, 30])
    assert.deepEqual(parseTtlRange('30-300'), [30, 300])
    assert.deepEqual(parseTtlRange('-300'), [0, 300])
    assert.deepEqual(parseTtlRange('30-'), [30, 2147483647])
    assert.equal(parseTtlRange('-'), null)
    assert.equal(parseTtlRange('1-2-3'), null)
  })
})

import { test, describe } from 'node:test'
import assert from 'node:assert/strict'
import { Class, Rcode, Type } from '../../dns/constants.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { StubHandler } from '../../../test/helpers/fake.js'
import { plugin } from './setup.js'
import type { Template } from './handler.js'
import { GoTemplate, TemplateError } from './gotmpl.js'

function build(body: string, key?: string): Template {
  const r = runSetup(plugin, body, key)
  return r.make!(new StubHandler()) as Template
}

describe('template setup', () => {
  test('class, type, zones, defaults', () => {
    const t = build('template IN A example.org {\n answer "{{ .Name }} 60 IN A 10.0.0.1"\n}').templates[0]!
    assert.equal(t.qclass, Class.IN)
    assert.equal(t.qtype, Type.A)
    assert.deepEqual(t.zones, ['example.org.'])
    assert.equal(t.regex.length, 1)
    assert.equal(t.regex[0]!.source, '.*')
    assert.equal(t.rcode, Rcode.NoError)
    assert.equal(t.fall.enabled, false)
  })
  test('zones default to the block keys; quoted zone lists are split', () => {
    assert.deepEqual(build('template ANY ANY {\n rcode NXDOMAIN\n}', 'cluster.local:53').zones, ['cluster.local.'])
    assert.deepEqual(build('template ANY ANY "a.org b.org" {\n rcode NXDOMAIN\n}').templates[0]!.zones, ['a.org.', 'b.org.'])
  })
  test('every option', () => {
    const t = build(`template IN ANY svc.cluster.local {
  match "^(?P<a>[^.]+)\\.(?P<b>[^.]+)\\.svc\\.cluster\\.local\\.$" ^x\\.
  answer "{{ .Name }} 60 IN A 10.0.0.1" "{{ .Name }} 60 IN A 10.0.0.2"
  additional "x.{{ .Zone }} 60 IN A 10.0.0.3"
  authority "{{ .Zone }} 60 IN NS ns.{{ .Zone }}"
  rcode NXDOMAIN
  ederror 21 "not supported"
  fallthrough a.org
  upstream
}`).templates[0]!
    assert.equal(t.regex.length, 2)
    assert.equal(t.answer.length, 2)
    assert.equal(t.additional.length, 1)
    assert.equal(t.authority.length, 1)
    assert.equal(t.rcode, Rcode.NXDomain)
    assert.deepEqual(t.ede, { code: 21, reason: 'not supported' })
    assert.deepEqual(t.fall.zones, ['a.org.'])
  })
  test('several directives: one handler, templates in file order', () => {
    const h = build('template IN A a.org {\n rcode NXDOMAIN\n}\ntemplate IN AAAA b.org {\n rcode NXDOMAIN\n}')
    assert.equal(h.templates.length, 2)
    assert.deepEqual(h.zones, ['a.org.', 'b.org.'])
  })

  const bad: Array<[string, string, number, number]> = [
    ['template', 'Wrong argument count', 2, 1],
    ['template IN', 'Wrong argument count', 2, 10],
    ['template XX A {\n rcode NXDOMAIN\n}', 'invalid query class XX', 2, 10],
    ['template in A {\n rcode NXDOMAIN\n}', 'invalid query class in', 2, 10],
    ['template IN FOO {\n rcode NXDOMAIN\n}', 'invalid RR class FOO', 2, 13],
    ['template IN A {\n match\n}', 'Wrong argument count', 3, 2],
    ['template IN A {\n match (abc\n rcode NXDOMAIN\n}', 'could not parse regex: (abc', 3, 8],
    ['template IN A {\n match (?=a)\n rcode NXDOMAIN\n}', 'could not parse regex: (?=a)', 3, 8],
    ['template IN A {\n answer\n}', 'Wrong argument count', 3, 2],
    ['template IN A {\n answer "{{ .Name"\n}', 'could not compile template: {{ .Name', 3, 9],
    ['template IN A {\n answer "{{ if .Name }}x{{ end }}"\n}', 'unsupported action "if"', 3, 9],
    ['template IN A {\n answer "{{ foo .Name }}"\n}', 'function "foo" not defined', 3, 9],
    ['template IN A {\n additional "{{ $x := 1 }}"\n}', 'could not compile template', 3, 13],
    ['template IN A {\n authority "{{ ( }}"\n}', 'could not compile template', 3, 12],
    ['template IN A {\n rcode\n}', 'Wrong argument count', 3, 2],
    ['template IN A {\n rcode FOO\n}', 'unknown rcode FOO', 3, 8],
    ['template IN A {\n rcode NXDOMAIN NOERROR\n}', 'Wrong argument count', 3, 17],
    ['template IN A {\n rcode NXDOMAIN\n ederror\n}', 'Wrong argument count', 4, 2],
    ['template IN A {\n rcode NXDOMAIN\n ederror 25\n}', 'invalid ederror code 25', 4, 10],
    ['template IN A {\n rcode NXDOMAIN\n ederror x\n}', 'invalid ederror code x', 4, 10],
    ['template IN A {\n rcode NXDOMAIN\n ederror 1 a b\n}', 'Wrong argument count', 4, 14],
    ['template IN A {\n rcode NXDOMAIN\n bogus\n}', "unknown property 'bogus'", 4, 2],
    ['template IN A {\n rcode NXDOMAIN\n var x 1\n}', "'var' (expr language) is not supported", 4, 2],
    ['template IN A {\n match .*\n}', 'no answer section for template found', 2, 1],
    ['template IN A', 'no answer section for template found', 2, 1],
  ]
  for (const [body, msg, line, col] of bad) {
    test(`${JSON.stringify(body)} → "${msg}" at ${line}:${col}`, () => {
      assert.throws(
        () => runSetup(plugin, body),
        (e: Error & { line?: number; col?: number }) => {
          assert.ok(e.message.includes(msg), e.message)
          assert.ok(e.message.includes('plugin/template: '), e.message)
          assert.equal(`${e.line}:${e.col}`, `${line}:${col}`, e.message)
          return true
        },
      )
    })
  }
  test('a regex longer than 10000 characters is refused', () => {
    assert.throws(() => runSetup(plugin, `template IN A {\n match ${'a'.repeat(10001)}\n rcode NXDOMAIN\n}`), /longer than 10000/)
  })
})

describe('Go template subset', () => {
  const groups = new Map<string, string>([['0', 'ip-10-0-0-1.x.'], ['1', '10'], ['ns', 'prod']])
  const data = {
    kind: 'obj' as const,
    typeName: '*template.templateData',
    fields: { Name: 'ip-10-0-0-1.x.', Zone: 'x.', Match: ['ip-10-0-0-1.x.', '10', '0a'], Group: groups, Class: 'IN', Type: 'A' },
    text: () => '',
  }
  const cases: Array<[string, string]> = [
    ['{{ .Name }} 60 {{ .Class }} {{ .Type }}', 'ip-10-0-0-1.x. 60 IN A'],
    ['{{ index .Match 1 }}', '10'],
    ['{{ .Group.ns }}/{{ .Group.missing }}', 'prod/<no value>'],
    ['{{ index .Group "ns" }}{{ index .Group "missing" }}', 'prod'],
    ['{{ parseInt (index .Match 2) 16 8 }}', '10'],
    ['{{ index .Match 2 | printf "%s!" }}', '0a!'],
    ['{{ printf "%03d-%x" 7 255 }}', '007-ff'],
    ['a  {{- .Zone -}}  b', 'ax.b'],
    ['{{/* comment */}}z', 'z'],
    ['{{ len .Match }}', '3'],
    ['{{ $.Zone }}', 'x.'],
    ['{{ .Match }}', '[ip-10-0-0-1.x. 10 0a]'],
  ]
  for (const [src, want] of cases) {
    test(src, () => assert.equal(GoTemplate.parse('answer', src).execute(data), want))
  }
  const fails: Array<[string, RegExp]> = [
    ['{{ .Nope }}', /can't evaluate field Nope in type \*template.templateData/],
    ['{{ index .Match 5 }}', /index out of range: 5/],
    ['{{ parseInt (index .Match 0) 10 8 }}', /strconv.ParseUint: parsing "ip-10-0-0-1.x.": invalid syntax/],
    ['{{ parseInt "300" 10 8 }}', /value out of range/],
  ]
  for (const [src, re] of fails) {
    test(`${src} fails when executed`, () => {
      const r = GoTemplate.parse('answer', src).execute(data)
      assert.ok(r instanceof TemplateError)
      assert.match(r.message, re)
    })
  }
})

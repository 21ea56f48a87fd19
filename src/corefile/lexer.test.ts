import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isSpace, tokenEndLine, tokenize, type Token } from './lexer.js'

const texts = (s: string): string[] => tokenize(s, 'Corefile').map((t) => t.text)
const pos = (t: Token): [number, number] => [t.line, t.col]

test('splits on spaces, tabs and newlines; empty inputs give no tokens', () => {
  assert.deepEqual(texts('a b\tc\nd e'), ['a', 'b', 'c', 'd', 'e'])
  assert.deepEqual(texts(''), [])
  assert.deepEqual(texts('\n'), [])
  assert.deepEqual(texts(' '), [])
  assert.deepEqual(texts('\t\n'), [])
})

test('any Unicode white space separates tokens (Go unicode.IsSpace)', () => {
  assert.deepEqual(texts('a\u00a0b\u2003c\u3000d\u0085e\u2028f\vg\fh'), ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'])
  assert.equal(isSpace(0xfeff), false)
  assert.deepEqual(texts('a\u200bb'), ['a\u200bb']) // zero-width space is not white space
})

test('a BOM at the very start is discarded and does not count as a column', () => {
  const t = tokenize('\ufeffexample.org {', 'F')
  assert.equal(t[0]!.text, 'example.org')
  assert.deepEqual(pos(t[0]!), [1, 1])
  assert.deepEqual(pos(t[1]!), [1, 13])
  // a BOM elsewhere is an ordinary character
  assert.deepEqual(texts('a \ufeffb'), ['a', '\ufeffb'])
})

test('\\r is ignored outside quotes, even inside a word, and kept inside quotes', () => {
  assert.deepEqual(texts('a b\r\nc\r\n'), ['a', 'b', 'c'])
  assert.deepEqual(texts('fo\ro'), ['foo'])
  assert.deepEqual(texts('"a\rb"'), ['a\rb'])
  const t = tokenize('a\r\nb', 'F')
  assert.deepEqual(pos(t[1]!), [2, 1])
})

test('braces are only whole tokens when surrounded by white space', () => {
  assert.deepEqual(texts('health{'), ['health{'])
  assert.deepEqual(texts('a {$VAR} }'), ['a', '{$VAR}', '}'])
  assert.deepEqual(texts('{}'), ['{}'])
  assert.deepEqual(texts('x {\n}'), ['x', '{', '}'])
})

test('quoted tokens keep spaces, newlines, # and braces; "" is an empty token', () => {
  const t = tokenize('log . "{remote} {name} # x"\n""', 'F')
  assert.deepEqual(t.map((x) => x.text), ['log', '.', '{remote} {name} # x', ''])
  assert.equal(t[2]!.quoted, true)
  assert.equal(t[0]!.quoted, false)
  assert.equal(t[3]!.quoted, true)
  assert.deepEqual(pos(t[2]!), [1, 7])
})

test('escapes in quotes: \\" gives a quote, any other backslash is kept', () => {
  assert.deepEqual(texts('"a\\"b"'), ['a"b'])
  assert.deepEqual(texts('"a\\b"'), ['a\\b'])
  assert.deepEqual(texts('"a\\\\b"'), ['a\\\\b'])
  assert.deepEqual(texts('"\\n"'), ['\\n'])
})

test('a quote in the middle of an unquoted token is an ordinary character', () => {
  assert.deepEqual(texts('a"b c"d'), ['a"b', 'c"d'])
  // a closing quote ends the token at once
  assert.deepEqual(texts('"a"b'), ['a', 'b'])
})

test('# starts a comment anywhere outside quotes, even inside a word', () => {
  assert.deepEqual(texts('foo#bar baz\nqux'), ['foo', 'qux'])
  assert.deepEqual(texts('# whole line\na # tail { }\nb'), ['a', 'b'])
  assert.deepEqual(texts('"#not" #yes'), ['#not'])
})

test('unterminated quote runs to EOF; an empty one yields nothing', () => {
  assert.deepEqual(texts('a "b c\nd'), ['a', 'b c\nd'])
  assert.deepEqual(texts('a "'), ['a'])
})

test('backslash-newline is not a line continuation', () => {
  const t = tokenize('a \\\nb', 'F')
  assert.deepEqual(t.map((x) => x.text), ['a', '\\', 'b'])
  assert.equal(t[2]!.line, 2)
})

test('tokens record file, 1-based line and column (code points)', () => {
  const t = tokenize('  é.org  {\n\tµs "x"', 'dir/Corefile')
  assert.deepEqual(
    t.map((x) => [x.text, x.file, x.line, x.col]),
    [
      ['é.org', 'dir/Corefile', 1, 3],
      ['{', 'dir/Corefile', 1, 10],
      ['µs', 'dir/Corefile', 2, 2],
      ['x', 'dir/Corefile', 2, 5],
    ],
  )
  const astral = tokenize('\u{1F600} b', 'F')
  assert.equal(astral[1]!.col, 3)
})

test('a quoted token spanning newlines shifts the lines of the following tokens', () => {
  const t = tokenize('a "x\ny\nz" b\nc', 'F')
  assert.deepEqual(t.map(pos), [[1, 1], [1, 3], [3, 4], [4, 1]])
  assert.equal(tokenEndLine(t[1]!), 3)
  assert.equal(tokenEndLine(t[0]!), 1)
})

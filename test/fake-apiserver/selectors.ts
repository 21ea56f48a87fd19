// Label and field selectors as the Kubernetes API server parses them
// (k8s.io/apimachinery/pkg/labels/selector.go, pkg/fields/selector.go), small enough for a fake.

export type Labels = Readonly<Record<string, string>>

export class SelectorError extends Error {
  override name = 'SelectorError'
}

type LabelOp = '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt'

interface LabelRequirement {
  readonly key: string
  readonly op: LabelOp
  readonly values: readonly string[]
}

/** A parsed label selector; `matches` is false-safe for absent labels (`!=`/`notin` match them). */
export class LabelSelector {
  readonly empty: boolean
  constructor(private readonly reqs: readonly LabelRequirement[]) {
    this.empty = reqs.length === 0
  }

  matches(labels: Labels | undefined): boolean {
    for (const r of this.reqs) {
      const v = labels === undefined ? undefined : Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined
      switch (r.op) {
        case '=':
          if (v !== r.values[0]) return false
          break
        case '!=':
          if (v === r.values[0]) return false
          break
        case 'in':
          if (v === undefined || !r.values.includes(v)) return false
          break
        case 'notin':
          if (v !== undefined && r.values.includes(v)) return false
          break
        case 'exists':
          if (v === undefined) return false
          break
        case '!':
          if (v !== undefined) return false
          break
        case 'gt':
        case 'lt': {
          if (v === undefined) return false
          const n = Number(v)
          const want = Number(r.values[0])
          if (!Number.isInteger(n)) return false
          if (r.op === 'gt' ? !(n > want) : !(n < want)) return false
          break
        }
      }
    }
    return true
  }
}

const KEY_RE = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/
const VALUE_RE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/

function checkKey(key: string, whole: string): string {
  if (!KEY_RE.test(key)) throw new SelectorError(`unable to parse requirement: invalid label key "${key}" in "${whole}"`)
  return key
}

function checkValue(v: string, whole: string): string {
  if (!VALUE_RE.test(v)) throw new SelectorError(`unable to parse requirement: invalid label value "${v}" in "${whole}"`)
  return v
}

/** Splits on commas outside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 40 /* ( */) depth++
    else if (c === 41 /* ) */) depth--
    else if (c === 44 /* , */ && depth === 0) {
      out.push(s.slice(start, i))
      start = i + 1
    }
  }
  out.push(s.slice(start))
  return out
}

export function parseLabelSelector(text: string | undefined | null): LabelSelector {
  const whole = (text ?? '').trim()
  if (whole === '') return new LabelSelector([])
  const reqs: LabelRequirement[] = []
  for (const raw of splitTop(whole)) {
    const part = raw.trim()
    if (part === '') throw new SelectorError(`unable to parse requirement: empty requirement in "${whole}"`)
    let m = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part)
    if (m !== null) {
      const values = m[3]!.split(',').map((v) => checkValue(v.trim(), whole))
      reqs.push({ key: checkKey(m[1]!, whole), op: m[2] as 'in' | 'notin', values })
      continue
    }
    m = /^([^\s!=<>(),]+)\s*(==|!=|=|>|<)\s*([^\s!=<>(),]*)$/.exec(part)
    if (m !== null) {
      const op = m[2]!
      const v = checkValue(m[3]!, whole)
      if (op === '>' || op === '<') {
        if (!/^-?\d+$/.test(v)) throw new SelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer in "${whole}"`)
        reqs.push({ key: checkKey(m[1]!, whole), op: op === '>' ? 'gt' : 'lt', values: [v] })
      } else {
        reqs.push({ key: checkKey(m[1]!, whole), op: op === '!=' ? '!=' : '=', values: [v] })
      }
      continue
    }
    m = /^(!?)\s*([^\s!=<>(),]+)$/.exec(part)
    if (m !== null) {
      reqs.push({ key: checkKey(m[2]!, whole), op: m[1] === '!' ? '!' : 'exists', values: [] })
      continue
    }
    throw new SelectorError(`unable to parse requirement: found '${part}', expected: a label selector requirement in "${whole}"`)
  }
  return new LabelSelector(reqs)
}

interface FieldRequirement {
  readonly field: string
  readonly neg: boolean
  readonly value: string
}

/** A parsed field selector over a fixed set of supported fields per resource. */
export class FieldSelector {
  readonly empty: boolean
  constructor(readonly reqs: readonly FieldRequirement[]) {
    this.empty = reqs.length === 0
  }

  /** `get` returns the value of a supported field ('' when unset, as the API server does). */
  matches(get: (field: string) => string): boolean {
    for (const r of this.reqs) {
      const v = get(r.field)
      if (r.neg ? v === r.value : v !== r.value) return false
    }
    return true
  }
}

/** Splits on an unescaped separator character. */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = []
  let cur = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1]!
      i++
    } else if (c === sep) {
      out.push(cur)
      cur = ''
    } else cur += c
  }
  out.push(cur)
  return out
}

function unescapeField(s: string): string {
  return s.replace(/\\(.)/g, '$1')
}

/** Parses `a=b,c!=d,e==f` (with `\,` `\=` `\\` escapes); `supported` names the selectable fields. */
export function parseFieldSelector(text: string | undefined | null, supported: readonly string[]): FieldSelector {
  const whole = (text ?? '').trim()
  if (whole === '') return new FieldSelector([])
  const reqs: FieldRequirement[] = []
  for (const part of splitEscaped(whole, ',')) {
    const m = /^((?:[^\\=!]|\\.)+?)(==|!=|=)(.*)$/.exec(part.trim())
    if (m === null) throw new SelectorError(`invalid selector: '${whole}'; can't understand '${part}'`)
    const field = unescapeField(m[1]!.trim())
    if (!supported.includes(field)) throw new SelectorError(`field label not supported: ${field}`)
    reqs.push({ field, neg: m[2] === '!=', value: unescapeField(m[3]!.trim()) })
  }
  return new FieldSelector(reqs)
}

// Kubernetes label selectors (k8s.io/apimachinery/pkg/labels), evaluated locally for the snapshot
// source (the API server evaluates them for watches). Also usable to validate `labels` /
// `namespace_labels` at setup.

export class SelectorError extends Error {
  override name = 'SelectorError'
  readonly code = 'ERR_KUBE_SELECTOR'
}

type Op = '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt'

interface Requirement {
  readonly key: string
  readonly op: Op
  readonly values: readonly string[]
}

export type LabelMap = Readonly<Record<string, unknown>> | null | undefined

export class LabelSelector {
  readonly text: string
  private readonly reqs: readonly Requirement[]
  constructor(text: string, reqs: readonly Requirement[]) {
    this.text = text
    this.reqs = reqs
  }

  matches(labels: LabelMap): boolean {
    for (const r of this.reqs) {
      const raw = labels != null && Object.prototype.hasOwnProperty.call(labels, r.key) ? labels[r.key] : undefined
      const v = typeof raw === 'string' ? raw : undefined
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
          if (v === undefined || !/^-?\d+$/.test(v)) return false
          const n = Number(v)
          const want = Number(r.values[0])
          if (r.op === 'gt' ? !(n > want) : !(n < want)) return false
          break
        }
      }
    }
    return true
  }
}

const KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/

/** Parses a label selector; throws SelectorError with the reason. An empty text matches all. */
export function parseSelector(text: string): LabelSelector {
  const reqs: Requirement[] = []
  let i = 0
  const s = text
  const ws = (): void => {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++
  }
  const word = (): string => {
    const start = i
    while (i < s.length && !' \t,()=!<>'.includes(s[i]!)) i++
    return s.slice(start, i)
  }
  const fail = (why: string): never => {
    throw new SelectorError(`invalid label selector "${text}": ${why}`)
  }
  const checkKey = (k: string): string => (KEY.test(k) && k.length <= 317 ? k : fail(`invalid key "${k}"`))
  const checkValue = (v: string): string => (VALUE.test(v) && v.length <= 63 ? v : fail(`invalid value "${v}"`))
  ws()
  if (i === s.length) return new LabelSelector(text, reqs)
  for (;;) {
    ws()
    if (s[i] === '!') {
      i++
      ws()
      reqs.push({ key: checkKey(word()), op: '!', values: [] })
    } else {
      const key = checkKey(word())
      ws()
      const c = s[i]
      if (c === undefined || c === ',') reqs.push({ key, op: 'exists', values: [] })
      else if (c === '=' || c === '!') {
        let op: Op = '='
        if (c === '!') {
          if (s[i + 1] !== '=') fail('expected "!="')
          op = '!='
          i += 2
        } else i += s[i + 1] === '=' ? 2 : 1
        ws()
        reqs.push({ key, op, values: [checkValue(word())] })
      } else if (c === '<' || c === '>') {
        i++
        ws()
        const v = word()
        if (!/^-?\d+$/.test(v)) fail(`"${v}" is not an integer`)
        reqs.push({ key, op: c === '>' ? 'gt' : 'lt', values: [v] })
      } else {
        const opWord = word()
        if (opWord !== 'in' && opWord !== 'notin') fail(`unknown operator "${opWord}"`)
        ws()
        if (s[i] !== '(') fail('expected "("')
        i++
        const values: string[] = []
        for (;;) {
          ws()
          values.push(checkValue(word()))
          ws()
          if (s[i] === ',') {
            i++
            continue
          }
          if (s[i] === ')') {
            i++
            break
          }
          fail('expected "," or ")"')
        }
        reqs.push({ key, op: opWord === 'in' ? 'in' : 'notin', values })
      }
    }
    ws()
    if (i === s.length) break
    if (s[i] !== ',') fail(`unexpected "${s[i]}"`)
    i++
  }
  return new LabelSelector(text, reqs)
}

import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolve } from 'node:path'
import { ConfigError } from '../../corefile/errors.js'
import { parseCorefile } from '../../corefile/parser.js'
import { runningSources } from '../../kube/source.js'
import { runSetup } from '../../../test/helpers/setup.js'
import { StubHandler } from '../../../test/helpers/fake.js'
import { parseKubernetes, plugin } from './setup.js'
import { Kubernetes } from './handler.js'
import { KubeTransferer } from './transfer.js'

const ok: string[] = [
  'kubernetes',
  'kubernetes cluster.local in-addr.arpa ip6.arpa {\n  pods insecure\n  fallthrough in-addr.arpa ip6.arpa\n  ttl 30\n}',
  'kubernetes cluster.local 10.96.0.0/12 {\n  endpoint https://10.0.0.1:6443\n  tls cert.pem key.pem ca.pem\n}',
  'kubernetes {\n  kubeconfig kube.conf ctx\n  namespaces a b\n  labels app in (a, b),env=prod\n  pods verified\n  endpoint_pod_names\n  ttl 0\n  noendpoints\n  ignore empty_service\n  startup_timeout 1.5s\n  apiserver_qps 2.5\n  apiserver_burst 10\n  apiserver_max_inflight 0\n}',
  'kubernetes cluster.local {\n  namespace_labels team=a\n  ttl 3600\n  fallthrough\n  multicluster cluster.local\n  zonal\n  ignore\n  snapshot cluster.yaml\n  endpoint a b\n}',
]

for (const body of ok) {
  test(`ok: ${JSON.stringify(body)}`, () => {
    const r = runSetup(plugin, body, 'cluster.local:53')
    assert.ok(r.make)
  })
}

const bad: Array<[string, string, number, number]> = [
  // [body, error substring, line, col]
  ['kubernetes\nkubernetes', 'plugin/kubernetes: this plugin can only be used once per Server Block', 3, 1],
  ['kubernetes in-addr.arpa 10.0.0.0/8', 'plugin/kubernetes: non-reverse zone name must be used', 2, 12],
  ['kubernetes {\n  pods\n}', "Wrong argument count or unexpected line ending after 'pods'", 3, 3],
  ['kubernetes {\n  pods maybe\n}', 'wrong value for pods: maybe,  must be one of: disabled, verified, insecure', 3, 8],
  ['kubernetes {\n  ttl 3601\n}', 'ttl must be in range [0, 3600]: 3601', 3, 7],
  ['kubernetes {\n  ttl -1\n}', 'ttl must be in range [0, 3600]: -1', 3, 7],
  ['kubernetes {\n  ttl abc\n}', 'strconv.Atoi: parsing "abc": invalid syntax', 3, 7],
  ['kubernetes {\n  ttl\n}', "Wrong argument count or unexpected line ending after 'ttl'", 3, 3],
  ['kubernetes {\n  namespaces a\n  namespace_labels x=y\n}', 'namespaces and namespace_labels cannot both be set', 4, 3],
  ['kubernetes {\n  upstream\n}', "unknown property 'upstream'; removed in CoreDNS 1.7.0", 3, 3],
  ['kubernetes {\n  resyncperiod 30s\n}', "unknown property 'resyncperiod'; removed in CoreDNS 1.7.0", 3, 3],
  ['kubernetes {\n  transfer to *\n}', "unknown property 'transfer'; removed in CoreDNS 1.8.0: use the transfer plugin", 3, 3],
  ['kubernetes {\n  podz insecure\n}', "unknown property 'podz'; expected one of:", 3, 3],
  ['kubernetes {\n  endpoint_pod_names yes\n}', "Wrong argument count or unexpected line ending after 'yes'", 3, 22],
  ['kubernetes {\n  namespaces\n}', "Wrong argument count or unexpected line ending after 'namespaces'", 3, 3],
  ['kubernetes {\n  endpoint\n}', "Wrong argument count or unexpected line ending after 'endpoint'", 3, 3],
  ['kubernetes {\n  tls a b\n}', "Wrong argument count or unexpected line ending after 'b'", 3, 9],
  ['kubernetes {\n  kubeconfig\n}', "Wrong argument count or unexpected line ending after 'kubeconfig'", 3, 3],
  ['kubernetes {\n  kubeconfig a b c\n}', "Wrong argument count or unexpected line ending after 'c'", 3, 18],
  ['kubernetes {\n  noendpoints x\n}', "Wrong argument count or unexpected line ending after 'x'", 3, 15],
  ['kubernetes {\n  ignore everything\n}', "unable to parse ignore value: 'everything'", 3, 10],
  ['kubernetes {\n  labels app in (a\n}', "unable to parse label selector value: 'app in (a'", 3, 10],
  ['kubernetes {\n  namespace_labels =x\n}', "unable to parse namespace_label selector value: '=x'", 3, 20],
  ['kubernetes {\n  startup_timeout 5x\n}', 'time: unknown unit "x" in duration "5x"', 3, 19],
  ['kubernetes {\n  startup_timeout\n}', "Wrong argument count or unexpected line ending after 'startup_timeout'", 3, 3],
  ['kubernetes {\n  apiserver_qps fast\n}', 'strconv.ParseFloat: parsing "fast": invalid syntax', 3, 17],
  ['kubernetes {\n  apiserver_burst -1\n}', 'apiserver_burst must be >= 0: -1', 3, 19],
  ['kubernetes {\n  multicluster other.local\n}', "multicluster zone 'other.local.' must be one of the kubernetes zones", 3, 16],
  ['kubernetes {\n  zonal\n  noendpoints\n}', 'zonal cannot be used with noendpoints', 3, 3],
  ['kubernetes {\n  snapshot\n}', "Wrong argument count or unexpected line ending after 'snapshot'", 3, 3],
  ['kubernetes a..b', 'plugin/kubernetes: zone is not a valid domain name: a..b', 2, 12],
]

for (const [body, msg, line, col] of bad) {
  test(`error: ${JSON.stringify(body)} → ${msg}`, () => {
    assert.throws(
      () => runSetup(plugin, body, 'cluster.local:53'),
      (e: unknown) => {
        assert.ok(e instanceof ConfigError, String(e))
        assert.ok(e.message.includes(msg), `${e.message} does not contain ${msg}`)
        assert.equal(e.line, line, e.message)
        assert.equal(e.col, col, e.message)
        assert.ok(e.message.startsWith(`Corefile:${line}:${col} - plugin/kubernetes: `), e.message)
        return true
      },
    )
  })
}

function cfgOf(body: string, key = 'cluster.local:53') {
  const r = runSetup(plugin, body, key)
  const d = parseCorefile(`${key} {\n${body}\n}\n`, 'Corefile').blocks[0]!.directives[0]!
  return parseKubernetes(r.ctx, d)
}

test('defaults: block zones, ttl 5, pods disabled, no fallthrough, 5s startup, endpoints watched', () => {
  const c = cfgOf('kubernetes', 'cluster.local 10.0.0.0/24:53')
  assert.deepEqual(c.zones, ['cluster.local.', '0.0.10.in-addr.arpa.'])
  assert.equal(c.primaryZone, 'cluster.local.')
  assert.equal(c.ttl, 5)
  assert.equal(c.podMode, 'disabled')
  assert.equal(c.fall.enabled, false)
  assert.equal(c.startupTimeoutMs, 5000)
  assert.equal(c.namespaces, null)
  assert.deepEqual(c.source, {
    endpoint: null,
    tls: null,
    kubeconfig: null,
    snapshot: null,
    namespaces: null,
    namespaceLabels: null,
    labels: null,
    pods: false,
    endpoints: true,
    targetNames: false,
    qps: null,
    burst: null,
    maxInflight: null,
  })
})

test('zones: args normalised (CIDR → reverse zones); primary = first non-reverse', () => {
  const c = cfgOf('kubernetes 10.96.0.0/16 Cluster.Local ip6.arpa')
  assert.deepEqual(c.zones, ['96.10.in-addr.arpa.', 'cluster.local.', 'ip6.arpa.'])
  assert.equal(c.primaryZone, 'cluster.local.')
})

test('source options: pods watched only for verified; paths absolute; labels joined; snapshot under root', () => {
  const c = cfgOf(
    'kubernetes {\n  pods verified\n  labels a=b, c in (d, e)\n  namespaces x y\n  kubeconfig k.conf ctx\n  endpoint http://e\n  snapshot snap.yaml\n  noendpoints\n  apiserver_qps 1.5\n}',
  )
  assert.equal(c.source.pods, true)
  assert.equal(c.source.endpoints, false)
  assert.equal(c.source.labels, 'a=b, c in (d, e)')
  assert.deepEqual(c.source.namespaces, ['x', 'y'])
  assert.deepEqual(c.source.kubeconfig, { file: resolve('k.conf'), context: 'ctx' })
  assert.equal(c.source.endpoint, null, 'endpoint is ignored when kubeconfig is set')
  assert.equal(c.source.snapshot, resolve(process.cwd(), 'snap.yaml'))
  assert.equal(c.source.qps, 1.5)
  assert.equal(cfgOf('kubernetes {\n  pods insecure\n}').source.pods, false)
  assert.equal(cfgOf('kubernetes {\n  tls c k ca\n  endpoint https://x\n}').source.endpoint, 'https://x')
})

test('endpoint with several URLs: first used, warning', () => {
  const r = runSetup(plugin, 'kubernetes {\n  endpoint https://a https://b\n}', 'cluster.local:53')
  assert.ok(r.lines.some((l) => l.includes("Multiple endpoints have been deprecated, only the first specified endpoint 'https://a' is used")))
})

test('setup starts nothing; registers startup/shutdown hooks, readiness and a transfer provider', () => {
  const before = runningSources()
  const r = runSetup(plugin, 'kubernetes cluster.local in-addr.arpa', 'cluster.local:53')
  assert.equal(runningSources(), before)
  assert.equal(r.services.startup.length, 1)
  assert.equal(r.services.shutdown.length, 1)
  const ready = r.services.ready.find((x) => x.name === 'kubernetes')
  assert.ok(ready)
  assert.equal(ready.ready(), false)
  const providers = r.ctx.block.providers.get('transfer') ?? []
  assert.equal(providers.length, 1)
  assert.ok(providers[0] instanceof KubeTransferer)
  assert.deepEqual((providers[0] as KubeTransferer).zones, ['cluster.local.'])
  assert.equal((r.ctx.block.providers.get('autopath') ?? []).length, 1)
  const h = r.make!(new StubHandler())
  assert.ok(h instanceof Kubernetes)
})

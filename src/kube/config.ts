// Where the API server is and how to authenticate, from the kubernetes plugin's options:
// `kubeconfig FILE [CONTEXT]` (wins over `endpoint`), `endpoint URL` (+ `tls CERT KEY CACERT`), or
// the in-cluster service account.
//
// @kubernetes/client-node is used for the kubeconfig format (config_types: clusters, users,
// contexts exactly as client-node reads them) and its token-file and exec credential providers,
// imported module by module: its index (KubeConfig) pulls in the whole generated API client,
// ~75 MB of RSS, more than half the memory budget of the DNS server without pods. Only users
// with an auth-provider we do not handle here (oidc, azure, gcp) or a proxy-url make us load the
// full KubeConfig, lazily, for its applyToHTTPSOptions.
//
// client-node 1.4 refuses `http://` servers unless the cluster sets insecure-skip-tls-verify
// (KubeConfig.createAgent throws "HTTP protocol is not allowed ..."). client-go (CoreDNS) talks
// plain HTTP to such servers and sends no credentials over it: so do we, whatever the kubeconfig
// says (plain keep-alive agent, no Authorization header).

import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import { isIPv6 } from 'node:net'
import { dirname, isAbsolute, join } from 'node:path'
import yaml from 'js-yaml'
import { newClusters, newContexts, newUsers, type Cluster, type User } from '@kubernetes/client-node/dist/config_types.js'
import { ExecAuth } from '@kubernetes/client-node/dist/exec_auth.js'
import { FileAuth } from '@kubernetes/client-node/dist/file_auth.js'
import type { KubeSourceOptions } from './model.js'

export class KubeConfigError extends Error {
  override name = 'KubeConfigError'
  readonly code = 'ERR_KUBE_CONFIG'
}

export const SERVICEACCOUNT_ROOT = '/var/run/secrets/kubernetes.io/serviceaccount'

/** The cluster and user a source talks to. */
export interface ResolvedConfig {
  readonly cluster: Cluster
  readonly user: User
  /** Where it came from, for messages. */
  readonly origin: string
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

function abs(root: string, file: string | undefined): string | undefined {
  return file === undefined || file === '' || isAbsolute(file) ? file : join(root, file)
}

/** Reads a kubeconfig file and picks the context (the named one, else current-context). */
export function loadKubeconfig(file: string, context: string | null): ResolvedConfig {
  let doc: { clusters?: unknown; users?: unknown; contexts?: unknown; 'current-context'?: unknown }
  try {
    doc = (yaml.load(readFileSync(file, 'utf8')) ?? {}) as typeof doc
  } catch (e) {
    throw new KubeConfigError(`cannot load kubeconfig ${file}: ${errText(e)}`, { cause: e })
  }
  let clusters: Cluster[]
  let users: User[]
  let contexts: ReturnType<typeof newContexts>
  try {
    clusters = newClusters(doc.clusters ?? [], { onInvalidEntry: 'filter' })
    users = newUsers(doc.users ?? [], { onInvalidEntry: 'filter' })
    contexts = newContexts(doc.contexts ?? [], { onInvalidEntry: 'filter' })
  } catch (e) {
    throw new KubeConfigError(`invalid kubeconfig ${file}: ${errText(e)}`, { cause: e })
  }
  const current = typeof doc['current-context'] === 'string' ? doc['current-context'] : ''
  const name = context ?? current
  const ctx = contexts.find((c) => c.name === name)
  if (ctx === undefined) {
    throw new KubeConfigError(
      context !== null ? `context "${context}" not found in kubeconfig ${file}` : `kubeconfig ${file}: current-context "${current}" not found`,
    )
  }
  const cluster = clusters.find((c) => c.name === ctx.cluster)
  if (cluster === undefined) throw new KubeConfigError(`kubeconfig ${file}: cluster "${ctx.cluster}" of context "${name}" not found`)
  const user = users.find((u) => u.name === ctx.user) ?? { name: ctx.user ?? 'anonymous' }
  // relative certificate paths are relative to the kubeconfig's directory (as client-node does)
  const root = dirname(file)
  const c: Cluster = { ...cluster }
  const caFile = abs(root, cluster.caFile)
  if (caFile !== undefined) c.caFile = caFile
  const u: User = { ...user }
  const certFile = abs(root, user.certFile)
  const keyFile = abs(root, user.keyFile)
  if (certFile !== undefined) u.certFile = certFile
  if (keyFile !== undefined) u.keyFile = keyFile
  return { cluster: c, user: u, origin: `kubeconfig ${file} context "${name}"` }
}

/** The connection settings for the options (kubeconfig, else endpoint, else in-cluster). */
export function resolveConfig(
  o: Pick<KubeSourceOptions, 'kubeconfig' | 'endpoint' | 'tls'>,
  env: NodeJS.ProcessEnv = process.env,
  saRoot = SERVICEACCOUNT_ROOT,
): ResolvedConfig {
  if (o.kubeconfig !== null) return loadKubeconfig(o.kubeconfig.file, o.kubeconfig.context)
  if (o.endpoint !== null) {
    let url: URL
    try {
      url = new URL(o.endpoint)
    } catch (e) {
      throw new KubeConfigError(`invalid endpoint URL "${o.endpoint}"`, { cause: e })
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new KubeConfigError(`invalid endpoint URL "${o.endpoint}": scheme must be http or https`)
    }
    const cluster: Cluster = { name: 'endpoint', server: o.endpoint, skipTLSVerify: false }
    const user: User = { name: 'endpoint' }
    if (o.tls !== null) {
      cluster.caFile = o.tls.ca
      user.certFile = o.tls.cert
      user.keyFile = o.tls.key
    }
    return { cluster, user, origin: `endpoint ${o.endpoint}` }
  }
  const host = env['KUBERNETES_SERVICE_HOST']
  const port = env['KUBERNETES_SERVICE_PORT']
  if (host === undefined || host === '' || port === undefined || port === '') {
    throw new KubeConfigError(
      'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
    )
  }
  // as client-node's loadFromCluster (ports 80/8080/8001 are plain http)
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https'
  const h = isIPv6(host) ? `[${host}]` : host
  return {
    cluster: { name: 'inCluster', server: `${scheme}://${h}:${port}`, caFile: `${saRoot}/ca.crt`, skipTLSVerify: false },
    user: { name: 'inClusterUser', authProvider: { name: 'tokenFile', config: { tokenFile: `${saRoot}/token` } } },
    origin: 'in-cluster service account',
  }
}

/** Per-request transport facts: the agent and the headers (credentials) to send. */
export interface RequestAuth {
  readonly agent: http.Agent
  readonly headers: Record<string, string>
}

interface TlsMaterial {
  headers: Record<string, string>
  ca?: Buffer | string
  cert?: Buffer | string
  key?: Buffer | string
  rejectUnauthorized?: boolean
  servername?: string
  agent?: http.Agent
}

function fileOrData(file: string | undefined, data: string | undefined): Buffer | undefined {
  if (file !== undefined && file !== '') return readFileSync(file)
  if (data !== undefined && data !== '') return Buffer.from(data, 'base64')
  return undefined
}

function fingerprint(b: Buffer | string | undefined): string {
  return b === undefined ? '-' : createHash('sha1').update(b).digest('base64')
}

/** Talks to one API server: base URL, agent (TLS material) and credentials per request. */
export class Connection {
  /** Server base URL without trailing slash, e.g. https://10.96.0.1:443. */
  readonly server: string
  readonly secure: boolean
  readonly config: ResolvedConfig
  private agent: http.Agent | null
  private tlsKey: string
  private readonly fileAuth: FileAuth
  private readonly execAuth: ExecAuth
  private full: { applyToHTTPSOptions(o: object): Promise<void> } | null

  constructor(config: ResolvedConfig) {
    this.config = config
    this.server = config.cluster.server.replace(/\/+$/, '')
    this.secure = !this.server.startsWith('http:')
    this.agent = this.secure ? null : new http.Agent({ keepAlive: true })
    this.tlsKey = ''
    this.fileAuth = new FileAuth()
    this.execAuth = new ExecAuth()
    this.full = null
  }

  /** Agent and credential headers for the next request (tokens rotate: re-applied each time). */
  async auth(): Promise<RequestAuth> {
    if (!this.secure) {
      this.agent ??= new http.Agent({ keepAlive: true })
      return { agent: this.agent, headers: {} }
    }
    const m = await this.material()
    if (m.agent !== undefined) return { agent: m.agent, headers: m.headers }
    // one keep-alive agent, rebuilt when the CA or client certificate change
    const key = `${fingerprint(m.ca)}|${fingerprint(m.cert)}|${fingerprint(m.key)}|${m.rejectUnauthorized}|${m.servername}`
    if (this.agent === null || key !== this.tlsKey) {
      this.agent?.destroy()
      const ao: https.AgentOptions = { keepAlive: true }
      if (m.ca !== undefined) ao.ca = m.ca
      if (m.cert !== undefined) ao.cert = m.cert
      if (m.key !== undefined) ao.key = m.key
      if (m.rejectUnauthorized !== undefined) ao.rejectUnauthorized = m.rejectUnauthorized
      if (m.servername !== undefined) ao.servername = m.servername
      this.agent = new https.Agent(ao)
      this.tlsKey = key
    }
    return { agent: this.agent, headers: m.headers }
  }

  private async material(): Promise<TlsMaterial> {
    const { cluster, user } = this.config
    const provider = user.authProvider as { name?: string; config?: Record<string, unknown> } | undefined
    const exec = this.execAuth.isAuthProvider(user)
    const tokenFile = !exec && this.fileAuth.isAuthProvider(user) === true
    if ((provider !== undefined && !exec && !tokenFile) || (cluster.proxyUrl !== undefined && cluster.proxyUrl !== '')) {
      return this.viaFullKubeConfig()
    }
    const m: TlsMaterial = { headers: {} }
    const ca = fileOrData(cluster.caFile, cluster.caData)
    if (ca !== undefined) m.ca = ca
    const cert = fileOrData(user.certFile, user.certData)
    if (cert !== undefined) m.cert = cert
    const key = fileOrData(user.keyFile, user.keyData)
    if (key !== undefined) m.key = key
    if (cluster.skipTLSVerify) m.rejectUnauthorized = false
    if (cluster.tlsServerName !== undefined && cluster.tlsServerName !== '') m.servername = cluster.tlsServerName
    if (user.impersonateUser !== undefined && user.impersonateUser !== '') m.headers['Impersonate-User'] = user.impersonateUser
    if (exec) {
      const o: { headers: Record<string, string>; cert?: string; key?: string } = { headers: m.headers }
      await this.execAuth.applyAuthentication(user, o)
      if (o.cert !== undefined) m.cert = o.cert
      if (o.key !== undefined) m.key = o.key
    } else if (tokenFile) {
      await this.fileAuth.applyAuthentication(user, { headers: m.headers })
    }
    if (user.token !== undefined && user.token !== '') m.headers['Authorization'] = `Bearer ${user.token}`
    if (user.username !== undefined && user.username !== '') {
      m.headers['Authorization'] = 'Basic ' + Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')
    }
    return m
  }

  /** Rare auth (oidc/azure/gcp providers, proxies): client-node's full KubeConfig, loaded on demand. */
  private async viaFullKubeConfig(): Promise<TlsMaterial> {
    if (this.full === null) {
      const { KubeConfig } = await import('@kubernetes/client-node')
      const kc = new KubeConfig()
      const { cluster, user } = this.config
      kc.loadFromOptions({
        clusters: [cluster],
        users: [user],
        contexts: [{ name: 'clusterdns', cluster: cluster.name, user: user.name }],
        currentContext: 'clusterdns',
      })
      this.full = kc
    }
    const o: { headers?: Record<string, unknown>; auth?: string; agent?: http.Agent } = {}
    await this.full.applyToHTTPSOptions(o)
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(o.headers ?? {})) headers[k] = Array.isArray(v) ? v.join(', ') : String(v)
    if (o.auth !== undefined && o.auth !== '') headers['Authorization'] = 'Basic ' + Buffer.from(o.auth).toString('base64')
    const m: TlsMaterial = { headers }
    if (o.agent !== undefined) m.agent = o.agent
    return m
  }

  /** Closes idle and open sockets; a later request opens new ones. */
  close(): void {
    this.agent?.destroy()
    this.agent = null
  }
}

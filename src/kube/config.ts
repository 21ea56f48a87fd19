// Where the API server is and how to authenticate, from the kubernetes plugin's options, using
// @kubernetes/client-node's KubeConfig (kubeconfig files, in-cluster service account, token /
// client certificate / basic auth, exec and token-file providers).
//
// client-node 1.4 refuses `http://` servers unless the cluster sets insecure-skip-tls-verify
// (KubeConfig.createAgent throws "HTTP protocol is not allowed ..."). client-go (CoreDNS) talks
// plain HTTP to such servers and sends no credentials over it, so for `http://` we never ask
// client-node for options: a plain keep-alive agent and no Authorization header.

import { createHash } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import { KubeConfig } from '@kubernetes/client-node'
import type { KubeSourceOptions } from './model.js'

export class KubeConfigError extends Error {
  override name = 'KubeConfigError'
  readonly code = 'ERR_KUBE_CONFIG'
}

/**
 * The KubeConfig for the options: `kubeconfig FILE [CONTEXT]` (wins over `endpoint`), else
 * `endpoint URL` (+ `tls CERT KEY CACERT`), else the in-cluster service account.
 */
export function buildKubeConfig(
  o: Pick<KubeSourceOptions, 'kubeconfig' | 'endpoint' | 'tls'>,
  env: NodeJS.ProcessEnv = process.env,
): KubeConfig {
  const kc = new KubeConfig()
  if (o.kubeconfig !== null) {
    try {
      kc.loadFromFile(o.kubeconfig.file)
    } catch (e) {
      throw new KubeConfigError(`cannot load kubeconfig ${o.kubeconfig.file}: ${errText(e)}`, { cause: e })
    }
    const ctx = o.kubeconfig.context
    if (ctx !== null) {
      if (kc.getContextObject(ctx) === null) {
        throw new KubeConfigError(`context "${ctx}" not found in kubeconfig ${o.kubeconfig.file}`)
      }
      kc.setCurrentContext(ctx)
    }
    const cluster = kc.getCurrentCluster()
    if (cluster === null) {
      throw new KubeConfigError(`kubeconfig ${o.kubeconfig.file}: no cluster for context "${kc.getCurrentContext()}"`)
    }
    if (kc.getCurrentUser() === null) {
      // client-node skips TLS options (CA!) without a user; an anonymous user keeps them
      const ctxObj = kc.getContextObject(kc.getCurrentContext())
      const userName = ctxObj?.user ?? 'clusterdns-anonymous'
      kc.loadFromOptions({
        clusters: kc.getClusters(),
        users: [...kc.getUsers(), { name: userName }],
        contexts: kc.getContexts(),
        currentContext: kc.getCurrentContext(),
      })
    }
    return kc
  }
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
    const cluster: { name: string; server: string; skipTLSVerify: boolean; caFile?: string } = {
      name: 'endpoint',
      server: o.endpoint.replace(/\/+$/, ''),
      skipTLSVerify: false,
    }
    const user: { name: string; certFile?: string; keyFile?: string } = { name: 'endpoint' }
    if (o.tls !== null) {
      cluster.caFile = o.tls.ca
      user.certFile = o.tls.cert
      user.keyFile = o.tls.key
    }
    kc.loadFromClusterAndUser(cluster, user)
    return kc
  }
  const host = env['KUBERNETES_SERVICE_HOST']
  const port = env['KUBERNETES_SERVICE_PORT']
  if (host === undefined || host === '' || port === undefined || port === '') {
    throw new KubeConfigError(
      'unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined',
    )
  }
  kc.loadFromCluster()
  return kc
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e)
}

/** Per-request transport facts: the agent and the headers (credentials) to send. */
export interface RequestAuth {
  readonly agent: http.Agent
  readonly headers: Record<string, string>
}

/** A ready-to-use connection description derived from a KubeConfig. */
export class Connection {
  /** Server base URL without trailing slash, e.g. https://10.96.0.1:443. */
  readonly server: string
  readonly secure: boolean
  private readonly kc: KubeConfig
  private agent: http.Agent | null
  private tlsKey: string

  constructor(kc: KubeConfig) {
    const cluster = kc.getCurrentCluster()
    if (cluster === null) throw new KubeConfigError('no current cluster in the Kubernetes configuration')
    this.kc = kc
    this.server = cluster.server.replace(/\/+$/, '')
    this.secure = !this.server.startsWith('http:')
    this.agent = this.secure ? null : new http.Agent({ keepAlive: true })
    this.tlsKey = ''
  }

  /** Agent and credential headers for the next request (tokens may rotate; re-read each time). */
  async auth(): Promise<RequestAuth> {
    if (!this.secure) return { agent: this.agent!, headers: {} }
    const o: {
      headers?: Record<string, string | string[] | number>
      auth?: string
      agent?: http.Agent
      ca?: Buffer
      cert?: Buffer
      key?: Buffer
      rejectUnauthorized?: boolean
      servername?: string
    } = {}
    await this.kc.applyToHTTPSOptions(o as https.RequestOptions)
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(o.headers ?? {})) headers[k] = Array.isArray(v) ? v.join(', ') : String(v)
    if (o.auth !== undefined && o.auth !== '') headers['Authorization'] = 'Basic ' + Buffer.from(o.auth).toString('base64')
    const cluster = this.kc.getCurrentCluster()
    if (cluster?.proxyUrl !== undefined && o.agent !== undefined) return { agent: o.agent, headers }
    // one keep-alive agent, rebuilt when the CA or client certificate files change
    const key = `${bufKey(o.ca)}|${bufKey(o.cert)}|${bufKey(o.key)}|${o.rejectUnauthorized}|${o.servername}`
    if (this.agent === null || key !== this.tlsKey) {
      this.agent?.destroy()
      const ao: https.AgentOptions = { keepAlive: true }
      if (o.ca !== undefined) ao.ca = o.ca
      if (o.cert !== undefined) ao.cert = o.cert
      if (o.key !== undefined) ao.key = o.key
      if (o.rejectUnauthorized !== undefined) ao.rejectUnauthorized = o.rejectUnauthorized
      if (o.servername !== undefined) ao.servername = o.servername
      this.agent = new https.Agent(ao)
      this.tlsKey = key
    }
    return { agent: this.agent, headers }
  }

  close(): void {
    this.agent?.destroy()
  }
}

function bufKey(b: Buffer | undefined): string {
  return b === undefined ? '-' : createHash('sha1').update(b).digest('base64')
}

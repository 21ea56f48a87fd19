// The kubernetes plugin's parsed configuration (plugins.md §6), shared by setup, handler and the
// zone transfer provider.

import type { Fall } from '../../pluginkit/fall.js'
import type { KubeSourceOptions } from '../../kube/model.js'

export type PodMode = 'disabled' | 'insecure' | 'verified'

export interface KubeConfig {
  /** Plugin zones, lower-case FQDN, in the order given (CIDRs expanded to reverse zones). */
  zones: string[]
  /** First non-reverse zone: PTR targets are built under it. */
  primaryZone: string
  /** `namespaces`: null = all namespaces. */
  namespaces: ReadonlySet<string> | null
  podMode: PodMode
  endpointPodNames: boolean
  ttl: number
  noEndpoints: boolean
  ignoreEmptyService: boolean
  fall: Fall
  startupTimeoutMs: number
  /** `multicluster` zones (parsed and validated, not served: see README Compatibility). */
  multicluster: string[]
  /** `zonal` (parsed and validated, not served). */
  zonal: boolean
  source: KubeSourceOptions
}

export const DEFAULT_TTL = 5
export const DEFAULT_STARTUP_TIMEOUT_MS = 5000

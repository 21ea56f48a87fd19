// The view before the Kubernetes source exists (server not started, e.g. `clusterdns check`):
// nothing is known and nothing is synced, so every would-be NXDOMAIN is a SERVFAIL.

import type { KubeView, PodRec, ServiceRec, SliceRec } from '../../kube/model.js'

const NONE: readonly never[] = []

export const EMPTY_VIEW: KubeView = {
  synced: false,
  serial: 0,
  version: 0,
  namespaceExists: () => false,
  service: () => undefined,
  servicesByIP: (): readonly ServiceRec[] => NONE,
  slicesOf: (): readonly SliceRec[] => NONE,
  slicesByIP: (): readonly SliceRec[] => NONE,
  podsByIP: (): readonly PodRec[] => NONE,
  services: (): Iterable<ServiceRec> => NONE,
}

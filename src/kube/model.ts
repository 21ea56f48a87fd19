// The compact records the DNS server keeps of Kubernetes objects (never whole API objects), and
// the read-only view the kubernetes plugin answers from. Sources (the API watch in client.ts /
// reflector.ts, or a snapshot file) turn API objects into these records with convert.ts and feed
// them to a KubeStore (store.ts), which keeps the indexes below current per event.
// Names (namespaces, services, pods, hostnames) are stored as the API has them: Kubernetes names
// are lower-case DNS labels, so they compare directly with lower-cased query labels.

export interface PortRec {
  /** '' for an unnamed port. */
  readonly name: string
  /** 'TCP' | 'UDP' | 'SCTP' as in the API ('' for the -1 sentinel). */
  readonly protocol: string
  /** -1 = the sentinel of a service or slice without ports (kubernetes-dns.md §2). */
  readonly port: number
}

export interface ServiceRec {
  readonly name: string
  readonly namespace: string
  /** spec.type: ClusterIP, NodePort, LoadBalancer, ExternalName. */
  readonly type: string
  /** First cluster IP is the literal "None". */
  readonly headless: boolean
  /** spec.clusterIPs (fallback [spec.clusterIP]) in canonical text, "None" removed; empty for headless/ExternalName. */
  readonly clusterIPs: readonly string[]
  /** spec.externalName for ExternalName services, else ''. */
  readonly externalName: string
  /** spec.ports, or [{name:'', protocol:'', port:-1}] when there are none. */
  readonly ports: readonly PortRec[]
  /** spec.externalIPs and LoadBalancer ingress IPs (for other plugins; not served by kubernetes). */
  readonly externalIPs: readonly string[]
}

export interface EndpointRec {
  /** Canonical IP text. */
  readonly addresses: readonly string[]
  /** conditions.ready (nil = true). Not-ready endpoints are kept only so readiness flips are cheap; DNS ignores them. */
  readonly ready: boolean
  /** endpoint.hostname or ''. */
  readonly hostname: string
  /**
   * targetRef.name when shorter than 64 characters, else ''. Kept only for `endpoint_pod_names`
   * (KubeSourceOptions.targetNames), '' otherwise: 150,000 pod names are ~7 MB.
   */
  readonly targetName: string
}

export interface SliceRec {
  /** The EndpointSlice's own name (metadata.name). */
  readonly name: string
  readonly namespace: string
  /** Label kubernetes.io/service-name; '' when absent (then it belongs to no service). */
  readonly service: string
  /** 'IPv4' | 'IPv6' ('FQDN' slices are dropped at conversion). */
  readonly addressType: string
  /** ports, or [{name:'', protocol:'', port:-1}] when there are none. */
  readonly ports: readonly PortRec[]
  readonly endpoints: readonly EndpointRec[]
}

export interface PodRec {
  readonly name: string
  readonly namespace: string
  /** status.podIP (primary only), canonical text exactly as the API wrote it. */
  readonly ip: string
}

export interface NamespaceRec {
  readonly name: string
}

export type Kind = 'services' | 'endpointslices' | 'pods' | 'namespaces'

/** What the kubernetes plugin reads. Every lookup is an index hit. */
export interface KubeView {
  /** Every watched kind has completed its initial list. */
  readonly synced: boolean
  /** SOA serial: Unix seconds of the last relevant change (kubernetes-dns.md §2). */
  readonly serial: number
  /**
   * Changes whenever anything the view answers could have changed (every applied event and
   * relist), so a reader may memoise answers on (view, version). Constant for immutable views.
   */
  readonly version: number
  namespaceExists(ns: string): boolean
  service(namespace: string, name: string): ServiceRec | undefined
  /** Services having this IP among their clusterIPs, in insertion order. */
  servicesByIP(ip: string): readonly ServiceRec[]
  /** Every slice labelled for this service. */
  slicesOf(namespace: string, service: string): readonly SliceRec[]
  /** Slices having this address on a ready endpoint. */
  slicesByIP(ip: string): readonly SliceRec[]
  /** Pods whose status.podIP is this text. */
  podsByIP(ip: string): readonly PodRec[]
  /** All services (zone transfer), any order. */
  services(): Iterable<ServiceRec>
}

/** Where and what to watch; built by the kubernetes plugin's setup from its options. */
export interface KubeSourceOptions {
  /** API server URL (`endpoint`); null = kubeconfig, else in-cluster service account. */
  readonly endpoint: string | null
  /** Client certificate auth for `endpoint` (`tls CERT KEY CACERT`), absolute paths. */
  readonly tls: { readonly cert: string; readonly key: string; readonly ca: string } | null
  /** `kubeconfig FILE [CONTEXT]`, absolute path. */
  readonly kubeconfig: { readonly file: string; readonly context: string | null } | null
  /** Our extension `snapshot FILE`: serve objects from a kubectl YAML/JSON dump, no API at all. */
  readonly snapshot: string | null
  /** `namespaces` filter; null = all. Objects elsewhere are not kept. */
  readonly namespaces: readonly string[] | null
  /** `namespace_labels` selector for the namespace watch. */
  readonly namespaceLabels: string | null
  /** `labels` selector for Services, EndpointSlices and Pods. */
  readonly labels: string | null
  /** Watch Pods (`pods verified`, autopath). */
  readonly pods: boolean
  /** Watch EndpointSlices (false with `noendpoints`). */
  readonly endpoints: boolean
  /** Keep endpoints' targetRef names (`endpoint_pod_names`). */
  readonly targetNames: boolean
  /** Client-side rate limits (`apiserver_qps`, `apiserver_burst`, `apiserver_max_inflight`); null = defaults. */
  readonly qps: number | null
  readonly burst: number | null
  readonly maxInflight: number | null
}

/** A running feed of records (API watches or a snapshot file), shared across reloads. */
export interface KubeSource {
  readonly view: KubeView
  /** Resolves true once every watched kind has listed, false if `timeoutMs` passed first. */
  waitSynced(timeoutMs: number): Promise<boolean>
  /** Short progress text for startup logs: what has synced, how many objects, how long. */
  progress(): string
  /** Drops this user's hold; the watches stop when the last user releases. */
  release(): Promise<void>
}

// Counters of the upstream path as plain numbers, read by a metrics exporter on scrape
// (STYLE.md §6). Names in comments are the CoreDNS metric each number feeds; see
// src/plugins/forward/README.md "Metrics".

/** CoreDNS plugin.TimeBuckets: prometheus.ExponentialBuckets(0.00025, 2, 16), in seconds. */
export const DURATION_BUCKETS: readonly number[] = Array.from({ length: 16 }, (_, i) => 0.00025 * 2 ** i)

/** A cumulative-on-render histogram: counts per bucket (non-cumulative), sum and count. */
export class Histogram {
  readonly bounds: readonly number[]
  /** counts[i] = observations ≤ bounds[i] and > bounds[i-1]; the last slot is +Inf. */
  readonly counts: Float64Array
  sum = 0
  count = 0
  constructor(bounds: readonly number[] = DURATION_BUCKETS) {
    this.bounds = bounds
    this.counts = new Float64Array(bounds.length + 1)
  }
  observe(v: number): void {
    const b = this.bounds
    let i = 0
    while (i < b.length && v > b[i]!) i++
    this.counts[i]!++
    this.sum += v
    this.count++
  }
}

export type ConnProto = 'udp' | 'tcp' | 'tcp-tls'

/** Per upstream ("to" label = "IP:port"). */
export class ProxyStats {
  /** "IP:port" (IPv6 in brackets). */
  readonly to: string
  /** coredns_forward_requests_total{to} (pre-1.11 name; queries sent, retries included). */
  requests = 0
  /** coredns_forward_responses_total{rcode,to}: replies received, by rcode. */
  readonly responses = new Map<number, number>()
  /** coredns_proxy_request_duration_seconds{proxy_name="forward",to,rcode}, by rcode. */
  readonly durations = new Map<number, Histogram>()
  /** coredns_proxy_healthcheck_failures_total{proxy_name="forward",to}. */
  healthcheckFailures = 0
  /** coredns_proxy_conn_cache_hits_total{proxy_name="forward",to,proto}. */
  hitsUdp = 0
  hitsTcp = 0
  hitsTls = 0
  /** coredns_proxy_conn_cache_misses_total{proxy_name="forward",to,proto}. */
  missesUdp = 0
  missesTcp = 0
  missesTls = 0
  /** Exchanges that ended without a reply (timeouts, resets); our addition. */
  errors = 0
  constructor(to: string) {
    this.to = to
  }
  hit(p: ConnProto): void {
    if (p === 'udp') this.hitsUdp++
    else if (p === 'tcp') this.hitsTcp++
    else this.hitsTls++
  }
  miss(p: ConnProto): void {
    if (p === 'udp') this.missesUdp++
    else if (p === 'tcp') this.missesTcp++
    else this.missesTls++
  }
  /** Records one reply: responses{rcode} and the duration histogram. */
  reply(rcode: number, seconds: number): void {
    this.responses.set(rcode, (this.responses.get(rcode) ?? 0) + 1)
    let h = this.durations.get(rcode)
    if (h === undefined) {
      h = new Histogram()
      this.durations.set(rcode, h)
    }
    h.observe(seconds)
  }
}

/** Per socket pool / connection: replies that matched no waiting query. */
export class DropStats {
  /** Reply from an address or port we did not send that query to. */
  wrongSource = 0
  /** No query in flight with this ID (late, duplicate or spoofed). */
  unknownId = 0
  /** ID matched but the question did not. */
  wrongQuestion = 0
  /** Shorter than a header, or QR not set. */
  malformed = 0
  get total(): number {
    return this.wrongSource + this.unknownId + this.wrongQuestion + this.malformed
  }
}

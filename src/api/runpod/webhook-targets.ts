/**
 * Where a webhook may go. A client names the URL, and the server calls it from inside the operator's network,
 * so by default only public unicast addresses are called: not loopback, private (10/8, 172.16/12, 192.168/16),
 * carrier-grade NAT, link-local (the cloud metadata service at 169.254.169.254), unique-local IPv6,
 * multicast, unspecified, reserved, nor IPv6 forms that embed such an IPv4 address. Names that only live
 * inside a network (`localhost`, `*.internal`, single labels) are refused too. The check runs twice: on the
 * URL at submission (the WHATWG parser has already turned decimal, octal and hex IPv4 forms into dotted
 * quads), and at delivery on every address the name resolves to, connecting only to a checked address, since a
 * public name can point inward. `--webhook-allow` lists ranges, addresses or names an operator does mean.
 * Address classification is ipaddr.js's.
 * @module
 */
import { lookup } from 'node:dns/promises'
import type { LookupFunction } from 'node:net'
import ipaddr from 'ipaddr.js'
import {
  type AddressRange,
  parseWebhookAllow,
  unmapped,
  type WebhookAllowList,
} from '../../config/webhook-allow.js'

export interface ResolvedAddress {
  readonly address: string
  readonly family: number
}

export interface WebhookTargetsOptions {
  /** Entries of `--webhook-allow`: CIDR ranges, addresses or host names; an entry may hold several, comma-separated. */
  readonly allow?: readonly string[]
  /** Every address of a name (tests stand in a fixed answer); DNS by default. */
  readonly resolve?: (hostname: string) => Promise<readonly ResolvedAddress[]>
}

/** Names that resolve only inside a network, whatever their addresses. */
const INTERNAL_SUFFIXES = ['.localhost', '.internal', '.local', '.home.arpa']

const resolveAll = async (hostname: string) => lookup(hostname, { all: true, verbatim: true })

export class WebhookTargets {
  readonly #allowed: WebhookAllowList
  readonly #resolve: (hostname: string) => Promise<readonly ResolvedAddress[]>

  /** Throws RangeError on an allow-list entry that is not a range, an address or a host name. */
  constructor(options: WebhookTargetsOptions = {}) {
    this.#allowed = parseWebhookAllow(options.allow ?? [])
    this.#resolve = options.resolve ?? resolveAll
  }

  /** Why the URL's host may not be called, or undefined when it may (names are resolved only at delivery). */
  refusal(url: URL): string | undefined {
    const host = url.hostname
      .replace(/^\[|\]$/g, '')
      .toLowerCase()
      .replace(/\.$/, '')
    if (this.#allowed.names.has(host)) return undefined
    if (ipaddr.isValid(host)) return this.addressRefusal(host)
    if (host === 'localhost' || INTERNAL_SUFFIXES.some((suffix) => host.endsWith(suffix))) {
      return `internal host name "${host}"`
    }
    if (!host.includes('.')) return `host name "${host}" without a domain`
    return undefined
  }

  /** Why an address may not be called (its range), or undefined for public unicast or allowed ones. */
  addressRefusal(text: string): string | undefined {
    const address = unmapped(ipaddr.parse(text))
    if (this.#allowed.ranges.some((range) => inRange(address, range))) return undefined
    const range = address.range()
    return range === 'unicast' ? undefined : `internal address ${address.toString()} (${range})`
  }

  /**
   * A `lookup` for `http.request`: resolves every address of the name, refuses them all if any one is internal,
   * and hands over only checked addresses, so the connection goes where the check looked.
   */
  lookup(): LookupFunction {
    return (name, options, callback) => {
      const allowedName = this.#allowed.names.has(name.toLowerCase().replace(/\.$/, ''))
      this.#resolve(name).then(
        (addresses) => {
          const refused = allowedName
            ? undefined
            : addresses.map((entry) => this.addressRefusal(entry.address)).find((why) => why !== undefined)
          if (refused !== undefined || addresses.length === 0) {
            const error = Object.assign(
              new Error(`webhook host ${name} resolves to ${refused ?? 'no address'}`),
              { code: 'EWEBHOOKTARGET' },
            )
            callback(error, '', 0)
          } else if ((options as { all?: boolean }).all === true) {
            ;(callback as unknown as (error: null, all: ResolvedAddress[]) => void)(null, [...addresses])
          } else {
            callback(null, addresses[0].address, addresses[0].family)
          }
        },
        (error: NodeJS.ErrnoException) => callback(error, '', 0),
      )
    }
  }
}

function inRange(address: ipaddr.IPv4 | ipaddr.IPv6, [base, bits]: AddressRange): boolean {
  if (address instanceof ipaddr.IPv4) return base instanceof ipaddr.IPv4 && address.match(base, bits)
  return base instanceof ipaddr.IPv6 && address.match(base, bits)
}

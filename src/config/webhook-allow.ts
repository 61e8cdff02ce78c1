/**
 * `--webhook-allow`: the internal webhook targets an operator means to allow (see
 * `api/runpod/webhook-targets.ts`). Parsed here so a bad entry stops startup like any other bad setting.
 * @module
 */
import ipaddr from 'ipaddr.js'

export type AddressRange = [ipaddr.IPv4 | ipaddr.IPv6, number]

export interface WebhookAllowList {
  readonly ranges: readonly AddressRange[]
  /** Lower-case host names, without a trailing dot. */
  readonly names: ReadonlySet<string>
}

/** IPv4-mapped IPv6 (`::ffff:a.b.c.d`) stands for the IPv4 address it reaches. */
export function unmapped(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address instanceof ipaddr.IPv6 && address.isIPv4MappedAddress() ? address.toIPv4Address() : address
}

/** Entries are CIDR ranges, addresses or host names; one entry may hold several, comma-separated. */
export function parseWebhookAllow(entries: readonly string[]): WebhookAllowList {
  const ranges: AddressRange[] = []
  const names = new Set<string>()
  for (const entry of entries.flatMap((item) => item.split(','))) {
    const value = entry.trim().toLowerCase()
    if (value === '') continue
    if (value.includes('/')) {
      if (!ipaddr.isValidCIDR(value)) throw new RangeError(`"${entry}" is not a valid address range`)
      const [address, bits] = ipaddr.parseCIDR(value)
      const plain = unmapped(address)
      // ::ffff:10.0.0.0/104 is 10.0.0.0/8
      ranges.push(plain === address ? [address, bits] : [plain, bits - 96])
    } else if (ipaddr.isValid(value)) {
      const address = unmapped(ipaddr.parse(value))
      ranges.push([address, address.kind() === 'ipv4' ? 32 : 128])
    } else if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?\.?$/.test(value)) {
      names.add(value.replace(/\.$/, ''))
    } else {
      throw new RangeError(`"${entry}" is neither an address range, an address nor a host name`)
    }
  }
  return { ranges, names }
}

import { BlockList, isIP } from 'node:net';

/**
 * Which hosts a camera URL may point at. ffmpeg connects wherever a camera URL says, so a camera is
 * also a way for whoever may add cameras to make this machine open connections: to services on
 * loopback (Redis, the API itself), to link-local addresses (cloud metadata at 169.254.169.254) and
 * to broadcast or multicast groups. Entries are IP addresses, CIDR ranges (`10.0.0.0/8`, `fe80::/10`),
 * host names (`cam1.example`) or name suffixes (`*.cams.example`).
 *
 * `allow`, when not empty, is the whole list of hosts cameras may use (it overrides `deny`);
 * otherwise every host is allowed except those matched by `deny`.
 */
export interface CameraHostPolicy {
  allow: string[];
  deny: string[];
}

/** Never useful as a camera, whatever the mode: unspecified, link-local (cloud metadata), multicast, broadcast. */
export const ALWAYS_DENIED = ['0.0.0.0/8', '169.254.0.0/16', '224.0.0.0/4', '255.255.255.255/32', '::/128', 'fe80::/10', 'ff00::/8'];
/** This machine's own services. */
export const LOOPBACK = ['127.0.0.0/8', '::1/128', 'localhost', '*.localhost'];

/**
 * The default deny list. Without tokens the API answers loopback clients only, which can reach
 * loopback services directly, so loopback cameras (a local RTSP server) stay allowed; with tokens a
 * remote admin could use a camera to reach this machine's own services, so loopback is denied too.
 */
export function defaultDeniedHosts(tokens: boolean): string[] {
  return tokens ? [...ALWAYS_DENIED, ...LOOPBACK] : [...ALWAYS_DENIED];
}

/** The strictest default, for callers that give no policy. */
export const STRICT_HOST_POLICY: CameraHostPolicy = { allow: [], deny: defaultDeniedHosts(true) };

/** Strips IPv6 brackets as URL.hostname keeps them. */
export function bareHost(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}

interface CompiledList {
  blocks: BlockList;
  names: string[];
  suffixes: string[];
}

/** Throws on an entry that is neither an address, a CIDR range nor a host name (config validation). */
export function parseHostEntry(entry: string): { kind: 'cidr'; address: string; prefix: number; family: 'ipv4' | 'ipv6' } | { kind: 'address'; address: string; family: 'ipv4' | 'ipv6' } | { kind: 'name'; name: string } | { kind: 'suffix'; suffix: string } {
  const e = entry.trim().toLowerCase();
  const slash = e.indexOf('/');
  if (slash > 0) {
    const address = bareHost(e.slice(0, slash));
    const prefix = Number(e.slice(slash + 1));
    const v = isIP(address);
    if (!v || !Number.isInteger(prefix) || prefix < 0 || prefix > (v === 4 ? 32 : 128)) throw new Error(`${entry}: not a CIDR range`);
    return { kind: 'cidr', address, prefix, family: v === 4 ? 'ipv4' : 'ipv6' };
  }
  const address = bareHost(e);
  const v = isIP(address);
  if (v) return { kind: 'address', address, family: v === 4 ? 'ipv4' : 'ipv6' };
  if (e.startsWith('*.') && /^[a-z0-9.-]+$/.test(e.slice(2))) return { kind: 'suffix', suffix: e.slice(1) };
  if (/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(e)) return { kind: 'name', name: e };
  throw new Error(`${entry}: not an address, CIDR range, host name or *.suffix`);
}

function compile(entries: string[]): CompiledList {
  const list: CompiledList = { blocks: new BlockList(), names: [], suffixes: [] };
  for (const entry of entries) {
    const p = parseHostEntry(entry);
    if (p.kind === 'cidr') list.blocks.addSubnet(p.address, p.prefix, p.family);
    else if (p.kind === 'address') list.blocks.addAddress(p.address, p.family);
    else if (p.kind === 'name') list.names.push(p.name);
    else list.suffixes.push(p.suffix);
  }
  return list;
}

function matches(list: CompiledList, host: string): boolean {
  const h = bareHost(host).toLowerCase().replace(/\.$/, '');
  const v = isIP(h);
  if (v) return list.blocks.check(h, v === 4 ? 'ipv4' : 'ipv6');
  return list.names.includes(h) || list.suffixes.some((s) => h.endsWith(s));
}

/** A compiled policy: `allowed(host)` for a host name or an address as written or as resolved. */
export class HostRules {
  private readonly allow: CompiledList;
  private readonly deny: CompiledList;
  private readonly restricted: boolean;

  constructor(readonly policy: CameraHostPolicy) {
    this.allow = compile(policy.allow);
    this.deny = compile(policy.deny);
    this.restricted = policy.allow.length > 0;
  }

  allowed(host: string): boolean {
    return this.restricted ? matches(this.allow, host) : !matches(this.deny, host);
  }
}

const compiled = new WeakMap<CameraHostPolicy, HostRules>();

/** Compiles a policy once per policy object. */
export function hostRules(policy: CameraHostPolicy): HostRules {
  let rules = compiled.get(policy);
  if (!rules) {
    rules = new HostRules(policy);
    compiled.set(policy, rules);
  }
  return rules;
}

/** The policy of a configuration: its lists, or the mode's default deny list when none is set. */
export function cameraHostPolicy(settings: { allowHosts: string[]; denyHosts?: string[] }, tokens: boolean): CameraHostPolicy {
  return { allow: settings.allowHosts, deny: settings.denyHosts ?? defaultDeniedHosts(tokens) };
}

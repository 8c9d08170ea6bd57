// CIDR functions for IPv4 and IPv6 (go-cidr semantics), with addresses as bigints.
import type { HclFunction } from "../context.ts";
import { T } from "../types.ts";
import { V } from "../value.ts";
import { FunctionError, fn, int, p } from "./helpers.ts";

interface Net {
  v6: boolean;
  /** Network address (host bits cleared). */
  addr: bigint;
  prefix: number;
}

const bits = (n: Net) => (n.v6 ? 128 : 32);

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const n = parseInt(part, 10);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIPv6(s: string): bigint | undefined {
  let head = s;
  let tail4: bigint | undefined;
  const lastColon = s.lastIndexOf(":");
  if (s.includes(".")) {
    tail4 = parseIPv4(s.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    head = s.slice(0, lastColon + 1) + "0:0";
  }
  const dbl = head.split("::");
  if (dbl.length > 2) return undefined;
  const left = dbl[0] ? dbl[0].split(":") : [];
  const right = dbl.length === 2 && dbl[1] ? dbl[1].split(":") : [];
  const missing = 8 - left.length - right.length;
  if (dbl.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...Array(dbl.length === 2 ? missing : 0).fill("0"), ...right];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | tail4;
  return v;
}

function parseCidr(s: string, argIndex = 0): Net {
  const slash = s.indexOf("/");
  if (slash < 0) throw new FunctionError(`invalid CIDR expression: invalid CIDR address: ${s}`, argIndex);
  const ip = s.slice(0, slash);
  const pre = s.slice(slash + 1);
  const v6 = ip.includes(":");
  const addr = v6 ? parseIPv6(ip) : parseIPv4(ip);
  const prefix = /^\d+$/.test(pre) ? parseInt(pre, 10) : NaN;
  const width = v6 ? 128 : 32;
  if (addr === undefined || !(prefix >= 0 && prefix <= width)) {
    throw new FunctionError(`invalid CIDR expression: invalid CIDR address: ${s}`, argIndex);
  }
  const hostBits = BigInt(width - prefix);
  return { v6, addr: (addr >> hostBits) << hostBits, prefix };
}

export function formatIP(v: bigint, v6: boolean): string {
  if (!v6) return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join(".");
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // Go prints IPv4-mapped addresses in dotted form.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return formatIP(v & 0xffffffffn, false);
  // RFC 5952: compress the longest run (length >= 2) of zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(":");
  return hex.slice(0, bestStart).join(":") + "::" + hex.slice(bestStart + bestLen).join(":");
}

function subnet(n: Net, newbits: number, num: bigint): Net {
  const newPrefix = n.prefix + newbits;
  if (newbits < 0) throw new FunctionError("must extend prefix by at least one bit", 1);
  if (newPrefix > bits(n)) {
    throw new FunctionError(`insufficient address space to extend prefix of ${n.prefix} by ${newbits}`, 1);
  }
  const max = 1n << BigInt(newbits);
  if (num < 0n || num >= max) throw new FunctionError(`prefix extension of ${newbits} does not accommodate a subnet numbered ${num}`, 2);
  return { v6: n.v6, addr: n.addr | (num << BigInt(bits(n) - newPrefix)), prefix: newPrefix };
}

const fmtNet = (n: Net) => `${formatIP(n.addr, n.v6)}/${n.prefix}`;

function lastAddr(n: Net): bigint {
  return n.addr | ((1n << BigInt(bits(n) - n.prefix)) - 1n);
}

export const ipnetFunctions: Record<string, HclFunction> = {
  cidrhost: fn([p("prefix", T.string), p("hostnum", T.number)], ([pre, host]) => {
    const n = parseCidr(pre!.str);
    let h = host!.num.trunc();
    const size = 1n << BigInt(bits(n) - n.prefix);
    if (h < 0n) h = size + h;
    if (h < 0n || h >= size) throw new FunctionError(`prefix of ${n.prefix} does not accommodate a host numbered ${host!.num.toString()}`, 1);
    return V.string(formatIP(n.addr + h, n.v6));
  }),
  cidrnetmask: fn([p("prefix", T.string)], ([pre]) => {
    const n = parseCidr(pre!.str);
    if (n.v6) throw new FunctionError("IPv6 addresses cannot have a netmask", 0);
    const mask = ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - n.prefix)) - 1n);
    return V.string(formatIP(mask, false));
  }),
  cidrsubnet: fn([p("prefix", T.string), p("newbits", T.number), p("netnum", T.number)], ([pre, nb, num]) => {
    const n = parseCidr(pre!.str);
    return V.string(fmtNet(subnet(n, int(nb!, 1, "newbits"), num!.num.trunc())));
  }),
  cidrsubnets: fn(
    [p("prefix", T.string)],
    ([pre, ...newbits]) => {
      const n = parseCidr(pre!.str);
      if (newbits.length === 0) return V.list([], T.string);
      const out: string[] = [];
      let current = subnet(n, int(newbits[0]!, 1, "newbits"), 0n);
      out.push(fmtNet(current));
      for (let i = 1; i < newbits.length; i++) {
        const len = int(newbits[i]!, i + 1, "newbits");
        const newPrefix = n.prefix + len;
        if (len < 1) throw new FunctionError("must extend prefix by at least one bit", i + 1);
        if (newPrefix > bits(n)) throw new FunctionError(`would extend prefix to ${newPrefix} bits, which is too long for an IPv${n.v6 ? 6 : 4} address`, i + 1);
        const host = BigInt(bits(n) - newPrefix);
        const masked = (lastAddr(current) >> host) << host;
        const sub: Net = { v6: n.v6, addr: masked, prefix: newPrefix };
        const next = lastAddr(sub) + 1n;
        const nextNet: Net = { v6: n.v6, addr: (next >> host) << host, prefix: newPrefix };
        if (next >= 1n << BigInt(bits(n)) || nextNet.addr > lastAddr(n) || nextNet.addr < n.addr) {
          throw new FunctionError(`not enough remaining address space for a subnet with a prefix of ${newPrefix} bits after ${fmtNet(current)}`, i + 1);
        }
        current = nextNet;
        out.push(fmtNet(current));
      }
      return V.list(out.map(V.string), T.string);
    },
    { varParam: p("newbits", T.number) },
  ),
};

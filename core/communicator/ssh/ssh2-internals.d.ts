// The two ssh2 modules certificate.ts extends (ssh2 ships no types for its internals).
declare module "ssh2/lib/protocol/Protocol.js" {
  const Protocol: { prototype: object };
  export default Protocol;
}
declare module "ssh2/lib/protocol/utils.js" {
  export function sendPacket(protocol: object, packet: Buffer): void;
}

// OpenSSH user certificates (ssh_certificate_file). A certificate is offered under its certificate
// type (`ssh-ed25519-cert-v01@openssh.com`) with the certificate as the public key blob, while the
// signature inside names the plain algorithm (`ssh-ed25519`, `rsa-sha2-256`). ssh2 writes one name
// for both, so its publickey request is extended here for keys that carry a certificate; every
// other key goes through ssh2 unchanged.
import type { ParsedKey } from "ssh2";
import { ssh2Internals } from "./ssh2.ts";

const CERT = Symbol("imgb.certificate");

interface CertInfo {
  /** Name the request uses: the certificate type (RSA: the SHA-2 variant). */
  requestAlgo: string;
  /** Name inside the signature blob. */
  signatureAlgo: string;
  blob: Buffer;
}

/** What the certificate's type maps to; ed25519 and RSA are supported. */
const TYPES: Record<string, { requestAlgo: string; signatureAlgo: string; keyType: string; hash?: string }> = {
  "ssh-ed25519-cert-v01@openssh.com": { requestAlgo: "ssh-ed25519-cert-v01@openssh.com", signatureAlgo: "ssh-ed25519", keyType: "ssh-ed25519" },
  "ssh-rsa-cert-v01@openssh.com": { requestAlgo: "rsa-sha2-256-cert-v01@openssh.com", signatureAlgo: "rsa-sha2-256", keyType: "ssh-rsa", hash: "sha256" },
};

/**
 * The private key, presented with the certificate: a key object ssh2 accepts (its own parsed key
 * underneath), or a message saying why the certificate does not fit.
 */
export function withCertificate(key: ParsedKey, certText: string, from: string): ParsedKey | string {
  const [type, b64] = certText.trim().split(/\s+/);
  const spec = type ? TYPES[type] : undefined;
  if (!type || !b64) return `${from} is not an OpenSSH certificate ("TYPE-cert-v01@openssh.com BASE64 [comment]")`;
  if (!spec) return `${from}: certificate type ${type} is not supported (ed25519 and RSA certificates are)`;
  if (key.type !== spec.keyType) return `${from} certifies a ${spec.keyType} key, but the private key is ${key.type}`;
  const blob = Buffer.from(b64, "base64");
  const info: CertInfo = { requestAlgo: spec.requestAlgo, signatureAlgo: spec.signatureAlgo, blob };
  installAuthPk();
  const hash = spec.hash;
  return Object.create(key, {
    type: { value: type },
    getPublicSSH: { value: () => blob },
    sign: { value: (data: Buffer) => (hash ? key.sign(data, hash) : key.sign(data)) },
    [CERT]: { value: info },
  }) as ParsedKey;
}

// The parts of ssh2's Protocol this extension writes through (ssh2 1.x).
interface ProtocolInternals {
  _kex: { sessionID: Buffer };
  _packetRW: { write: { alloc(n: number): Buffer; allocStart: number; finalize(p: Buffer): Buffer } };
  _authsQueue: string[];
  authPK(username: string, key: unknown, keyAlgo?: unknown, cbSign?: unknown): void;
}

let installed = false;

function installAuthPk(): void {
  if (installed) return;
  installed = true;
  const { Protocol, sendPacket } = ssh2Internals(); // loaded: planAuth runs after loadSsh2
  const proto = Protocol.prototype as ProtocolInternals;
  const original = proto.authPK;
  proto.authPK = function (this: ProtocolInternals, username: string, key: unknown, keyAlgo?: unknown, cbSign?: unknown) {
    const cert = (key as { [CERT]?: CertInfo } | null)?.[CERT];
    if (!cert) return original.call(this, username, key, keyAlgo, cbSign);
    const sign = (typeof keyAlgo === "function" ? keyAlgo : cbSign) as ((data: Buffer, cb: (sig: Buffer) => void) => void) | undefined;
    const str = (s: string | Buffer) => {
      const b = typeof s === "string" ? Buffer.from(s) : s;
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return Buffer.concat([len, b]);
    };
    // RFC 4252 section 7: the request body, without and then with the signature.
    const body = (signed: boolean) =>
      Buffer.concat([Buffer.from([50]), str(username), str("ssh-connection"), str("publickey"), Buffer.from([signed ? 1 : 0]), str(cert.requestAlgo), str(cert.blob)]);
    const send = (payload: Buffer) => {
      const packet = this._packetRW.write.alloc(payload.length);
      payload.copy(packet, this._packetRW.write.allocStart);
      this._authsQueue.push("publickey");
      sendPacket(this, this._packetRW.write.finalize(packet));
    };
    if (!sign) return send(body(false));
    const request = body(true);
    sign(Buffer.concat([str(this._kex.sessionID), request]), (signature: Buffer) => {
      send(Buffer.concat([request, str(Buffer.concat([str(cert.signatureAlgo), str(signature)]))]));
    });
  };
}

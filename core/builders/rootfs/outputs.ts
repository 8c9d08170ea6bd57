// Turning a root filesystem folder into files: tarballs, a raw ext4 image, qcow2, and an OCI
// archive that `podman load` accepts. Each writer makes one file and returns its path.
import { mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run, runText } from "../../process/child.ts";

const TAR_CREATE = ["tar", "--numeric-owner", "--xattrs", "--xattrs-include=*", "--acls", "--sort=name"];

export async function writeTar(root: string, out: string, compression: "none" | "gz" | "zst", signal: AbortSignal) {
  const compress = compression === "gz" ? ["--use-compress-program=gzip -n"] : compression === "zst" ? ["--use-compress-program=zstd -T0 -q"] : [];
  await run([...TAR_CREATE, ...compress, "-C", root, "-cf", out, "."], { signal });
}

/** Content + 30% + 256 MiB, rounded up to a MiB: room for ext4's metadata and a little growth. */
export async function autoDiskBytes(root: string, signal: AbortSignal): Promise<number> {
  const used = Number((await runText(["du", "-sxb", root], { signal })).split(/\s/)[0]);
  const bytes = used * 1.3 + 256 * 2 ** 20;
  return Math.ceil(bytes / 2 ** 20) * 2 ** 20;
}

export async function writeExt4(root: string, out: string, bytes: number, signal: AbortSignal) {
  await rm(out, { force: true });
  await run(["truncate", "-s", String(bytes), out], { signal });
  await run(["mkfs.ext4", "-q", "-F", "-L", "root", "-d", root, out], { signal });
}

export async function writeQcow2(raw: string, out: string, signal: AbortSignal) {
  await run(["qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2", raw, out], { signal });
}

/** Go's GOARCH names, which OCI uses. */
export function ociArchitecture(nodeArch: string = process.arch): string {
  return { x64: "amd64", arm64: "arm64", arm: "arm", ia32: "386", ppc64: "ppc64le", s390x: "s390x", riscv64: "riscv64" }[nodeArch] ?? nodeArch;
}

async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of Bun.file(path).stream()) hasher.update(chunk);
  return hasher.digest("hex");
}

/**
 * An oci-archive: an OCI image layout (oci-layout, index.json, blobs/sha256/…) in a tar, one
 * uncompressed layer. The index names the image with the full reference in
 * `org.opencontainers.image.ref.name` ("localhost/name:tag"), which is what `podman load` tags it as.
 */
export async function writeOciArchive(root: string, out: string, ref: string, workDir: string, signal: AbortSignal) {
  const layout = await mkdtemp(join(workDir, "oci-"));
  try {
    const blobs = join(layout, "blobs", "sha256");
    await run(["mkdir", "-p", blobs]);
    const layerTmp = join(layout, "layer.tar");
    await run([...TAR_CREATE, "-C", root, "-cf", layerTmp, "."], { signal });
    const layerDigest = await sha256File(layerTmp);
    const layerSize = (await stat(layerTmp)).size;
    await rename(layerTmp, join(blobs, layerDigest));

    const created = new Date().toISOString();
    const config = {
      created,
      architecture: ociArchitecture(),
      os: "linux",
      config: { Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"] },
      rootfs: { type: "layers", diff_ids: [`sha256:${layerDigest}`] },
      history: [{ created, created_by: "imgb rootfs builder" }],
    };
    const configDesc = await writeBlob(blobs, "application/vnd.oci.image.config.v1+json", config);
    const manifest = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: configDesc,
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${layerDigest}`, size: layerSize }],
    };
    const manifestDesc = await writeBlob(blobs, "application/vnd.oci.image.manifest.v1+json", manifest);
    const index = {
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ ...manifestDesc, annotations: { "org.opencontainers.image.ref.name": ref } }],
    };
    await writeFile(join(layout, "index.json"), JSON.stringify(index));
    await writeFile(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    await run(["tar", "-C", layout, "-cf", out, "oci-layout", "index.json", "blobs"], { signal });
  } finally {
    await rm(layout, { recursive: true, force: true });
  }
}

async function writeBlob(blobs: string, mediaType: string, value: object) {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  const digest = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  await writeFile(join(blobs, digest), bytes);
  return { mediaType, digest: `sha256:${digest}`, size: bytes.length };
}

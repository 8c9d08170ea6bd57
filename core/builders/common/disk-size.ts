// Disk sizes in builder configs (qemu's disk_size, rootfs's disk_size).

/** Disk sizes as Packer writes them: "10240" (MiB), "1500M", "20G", "1T". Returns bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+)\s*([KMGT]i?B?)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? "M").toUpperCase()[0]!;
  const shift = { K: 10, M: 20, G: 30, T: 40 }[unit as "K" | "M" | "G" | "T"];
  return Number(m[1]) * 2 ** shift;
}

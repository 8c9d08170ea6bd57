// A whole BIOS-bootable disk, made without loop devices or mounts: an MBR partition table with
// syslinux's boot code, partition 1 a FAT file system holding syslinux, the kernel, the initrd and
// syslinux.cfg (written with mtools), partition 2 the root file system, written in place by
// `mkfs.ext4 -d` at its offset. Nothing on the host is attached or mounted, so a killed build can
// leave nothing attached or mounted either.
import { existsSync } from "node:fs";
import { open, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run } from "../../process/child.ts";

const MiB = 2 ** 20;
const SECTOR = 512;
/** Partition 1 starts at 1 MiB, as partitioning tools align it. */
const BOOT_START = MiB;

/** Where Debian (and others) put syslinux's MBR boot code. */
const MBR_CODE_PATHS = ["/usr/lib/syslinux/mbr/mbr.bin", "/usr/lib/SYSLINUX/mbr.bin", "/usr/share/syslinux/mbr.bin"];

export const BOOTABLE_DISK_TOOLS = [
  { program: "syslinux", from: "syslinux" },
  { program: "mcopy", from: "mtools" },
  { program: "mkfs.fat", from: "dosfstools" },
  { program: "mkfs.ext4", from: "e2fsprogs" },
] as const;

/** What is missing on this host to make a bootable disk, as a sentence; undefined when nothing is. */
export function missingBootableDiskTools(): string | undefined {
  const missing: string[] = BOOTABLE_DISK_TOOLS.filter((t) => !Bun.which(t.program)).map((t) => `${t.program} (Debian package ${t.from})`);
  if (!mbrCodePath()) missing.push(`syslinux's mbr.bin (Debian package syslinux-common; looked in ${MBR_CODE_PATHS.join(", ")})`);
  return missing.length > 0 ? `bootloader = "syslinux" needs ${missing.join(", ")}` : undefined;
}

function mbrCodePath(): string | undefined {
  return MBR_CODE_PATHS.find((p) => existsSync(p));
}

export interface MbrPartition {
  bootable: boolean;
  /** MBR partition type: 0x0c FAT32 (LBA), 0x83 Linux. */
  type: number;
  startSector: number;
  sectors: number;
}

/**
 * Bytes 440..511 of an MBR: disk signature, four partition entries, 0x55AA. CHS fields hold the
 * "use LBA" marker (1023/254/63), which every BIOS since the late nineties honours.
 */
export function mbrPartitionTable(partitions: MbrPartition[], diskSignature: number): Uint8Array {
  if (partitions.length > 4) throw new Error("an MBR holds at most four primary partitions");
  const table = new Uint8Array(72);
  const view = new DataView(table.buffer);
  view.setUint32(0, diskSignature >>> 0, true);
  partitions.forEach((p, i) => {
    if (p.startSector + p.sectors > 0xffffffff) throw new Error("an MBR partition cannot end beyond 2 TiB");
    const at = 6 + i * 16;
    table[at] = p.bootable ? 0x80 : 0x00;
    table.set([0xfe, 0xff, 0xff], at + 1);
    table[at + 4] = p.type;
    table.set([0xfe, 0xff, 0xff], at + 5);
    view.setUint32(at + 8, p.startSector, true);
    view.setUint32(at + 12, p.sectors, true);
  });
  table[70] = 0x55;
  table[71] = 0xaa;
  return table;
}

export interface BootableDiskOptions {
  /** The root file system tree. */
  root: string;
  kernel: string;
  initrd?: string;
  /** The raw disk file to write. */
  out: string;
  /** Scratch folder of the build. */
  workDir: string;
  /** Whole disk size; undefined = the content's size plus room. */
  diskBytes?: number;
  /** Bytes the root file system gets when diskBytes is not set. */
  autoRootBytes: () => Promise<number>;
  /** Kernel command line; root=UUID=… and rw are added unless it names root= itself. */
  kernelArgs: string;
  signal: AbortSignal;
}

export interface BootableDisk {
  rootUuid: string;
  bootBytes: number;
  rootOffset: number;
  rootBytes: number;
  commandLine: string;
}

const roundUpMiB = (n: number) => Math.ceil(n / MiB) * MiB;

/** The boot partition: twice the kernel and initrd (room for a second pair) plus slack, at least 64 MiB. */
export async function bootPartitionBytes(kernel: string, initrd?: string): Promise<number> {
  const pair = (await stat(kernel)).size + (initrd ? (await stat(initrd)).size : 0);
  return Math.max(64 * MiB, roundUpMiB(2 * pair + 16 * MiB));
}

export function syslinuxConfig(commandLine: string, hasInitrd: boolean): string {
  return [
    "SERIAL 0 115200",
    "DEFAULT imgb",
    "PROMPT 0",
    "TIMEOUT 0",
    "LABEL imgb",
    "  LINUX /vmlinuz",
    ...(hasInitrd ? ["  INITRD /initrd.img"] : []),
    `  APPEND ${commandLine}`,
    "",
  ].join("\n");
}

export function kernelCommandLine(kernelArgs: string, rootUuid: string): string {
  const args = kernelArgs.trim();
  return /(^|\s)root=/.test(args) ? args : `root=UUID=${rootUuid} rw${args ? ` ${args}` : ""}`;
}

export async function writeBootableDisk(o: BootableDiskOptions): Promise<BootableDisk> {
  // The programs are checked before the build starts (stepCheckTools); the boot code is read here.
  const mbrCode = mbrCodePath();
  if (!mbrCode) throw new Error(missingBootableDiskTools());
  const { signal } = o;
  const bootBytes = await bootPartitionBytes(o.kernel, o.initrd);
  const rootOffset = BOOT_START + bootBytes;
  const rootBytes = o.diskBytes !== undefined ? Math.floor((o.diskBytes - rootOffset) / MiB) * MiB : await o.autoRootBytes();
  if (rootBytes < 64 * MiB) {
    throw new Error(`disk_size leaves ${Math.max(0, Math.round(rootBytes / MiB))} MiB for the root file system after the ${bootBytes / MiB} MiB boot partition`);
  }
  const total = rootOffset + rootBytes;
  const rootUuid = crypto.randomUUID();
  const commandLine = kernelCommandLine(o.kernelArgs, rootUuid);

  await rm(o.out, { force: true });
  await run(["truncate", "-s", String(total), o.out], { signal });
  const mbr = new Uint8Array(512);
  mbr.set((await Bun.file(mbrCode).bytes()).subarray(0, 440));
  const signature = new DataView(crypto.getRandomValues(new Uint8Array(4)).buffer).getUint32(0);
  mbr.set(
    mbrPartitionTable(
      [
        { bootable: true, type: 0x0c, startSector: BOOT_START / SECTOR, sectors: bootBytes / SECTOR },
        { bootable: false, type: 0x83, startSector: rootOffset / SECTOR, sectors: rootBytes / SECTOR },
      ],
      signature,
    ),
    440,
  );
  const disk = await open(o.out, "r+");
  try {
    await disk.write(mbr, 0, mbr.length, 0);
  } finally {
    await disk.close();
  }

  // FAT32 with one-sector clusters stays above FAT32's cluster minimum from 32 MiB up; the hidden
  // sector count is the partition's start, which the volume boot record needs to find itself.
  const startSector = String(BOOT_START / SECTOR);
  await run(["mkfs.fat", "-F", "32", "-s", "1", `--offset=${startSector}`, "-h", startSector, "-n", "IMGBBOOT", o.out, String(bootBytes / 1024)], { signal });
  const fat = `${o.out}@@${BOOT_START}`;
  const mtoolsEnv = { ...process.env, MTOOLS_SKIP_CHECK: "1" };
  const cfg = join(o.workDir, "syslinux.cfg");
  await writeFile(cfg, syslinuxConfig(commandLine, !!o.initrd));
  try {
    const copies: Array<[string, string]> = [[o.kernel, "::/vmlinuz"], [cfg, "::/syslinux.cfg"]];
    if (o.initrd) copies.push([o.initrd, "::/initrd.img"]);
    for (const [from, to] of copies) await run(["mcopy", "-o", "-i", fat, from, to], { signal, env: mtoolsEnv });
  } finally {
    await rm(cfg, { force: true });
  }
  await run(["syslinux", "--install", "--offset", String(BOOT_START), o.out], { signal, env: mtoolsEnv });

  await run(
    ["mkfs.ext4", "-q", "-F", "-L", "root", "-U", rootUuid, "-E", `offset=${rootOffset}`, "-d", o.root, o.out, `${rootBytes / 1024}k`],
    { signal },
  );
  return { rootUuid, bootBytes, rootOffset, rootBytes, commandLine };
}

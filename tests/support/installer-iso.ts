// A small installer ISO for the qemu builder's install tests, made from Debian parts and cached:
// Debian's kernel, a busybox initramfs with sshd, sftp-server, extlinux and the modules a QEMU guest
// needs, isolinux for BIOS (a `boot:` prompt that takes a typed command line) and a GRUB EFI image
// for UEFI (a `grub>` prompt). The initramfs's /init is the installer: with `url=` on the command
// line it brings up the network, fetches that script and runs it (the template's install.sh
// partitions the disk and copies this same system onto it); with `root=` it switch_roots to an
// installed disk, whose /sbin/init brings up the network and starts sshd.
import { chmod, cp, mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { run, runText } from "../../core/process/child.ts";
import { cachedFile } from "./images.ts";

export interface InstallerIso {
  iso: string;
  /** The kernel version inside, for messages. */
  kernelVersion: string;
}

/** Modules loaded at boot (with their dependencies): disks, network, CD, floppy, file systems. */
const MODULES = [
  "virtio_pci", "virtio_blk", "virtio_net", "virtio_rng", "crc32c_generic", "ext4", "ata_piix", "ata_generic", "sr_mod", "isofs",
  "floppy", "vfat", "nls_cp437", "nls_ascii", "nls_iso8859_1", "efivarfs",
];

const INIT = `#!/bin/sh
# The installer's /init (and, after switch_root, nothing: the installed disk has /sbin/init).
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /mnt /newroot /cdrom /floppy
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in ${MODULES.join(" ")}; do modprobe $m 2>/dev/null; done
for arg in $(cat /proc/cmdline); do
  case "$arg" in url=*) URL="\${arg#url=}" ;; root=*) ROOT="\${arg#root=}" ;; esac
done
if [ -n "$ROOT" ]; then
  for i in 1 2 3 4 5 6 7 8 9 10; do [ -b "$ROOT" ] && break; sleep 0.5; done
  mount -t ext4 "$ROOT" /newroot || { echo "imgb-installer: cannot mount $ROOT"; poweroff -f; }
  mount --move /dev /newroot/dev
  umount /proc /sys
  exec switch_root /newroot /sbin/init
fi
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
echo "imgb-installer: fetching $URL"
if [ -n "$URL" ] && wget -q -O /tmp/install.sh "$URL"; then
  export URL
  sh -e /tmp/install.sh && exit 0
fi
echo "imgb-installer: install failed"
sleep 2
poweroff -f
`;

const DISK_INIT = `#!/bin/sh
# /sbin/init of an installed disk: network on QEMU's user network, sshd, and nothing else.
mount -t proc proc /proc
mount -t sysfs sys /sys
mkdir -p /dev/pts /run/sshd /tmp /var/log
mount -t devpts devpts /dev/pts
mount -o remount,rw /
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
/usr/sbin/sshd -E /var/log/sshd.log
echo "imgb-installed-system: sshd started"
while true; do sleep 3600; done
`;

const SSHD_CONFIG = `Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
UseDNS no
Subsystem sftp /usr/lib/openssh/sftp-server
`;

const ISOLINUX_CFG = `SERIAL 0 115200
PROMPT 1
TIMEOUT 0
DEFAULT install
LABEL install
  KERNEL /vmlinuz
  APPEND initrd=/initrd.img console=ttyS0
`;

// GRUB's own configuration only finds the CD; with no menu entry GRUB stops at its prompt.
const GRUB_CFG = `search --no-floppy --file /vmlinuz --set root
echo "imgb installer: type linux, initrd and boot"
`;

const BINARIES = ["/usr/sbin/sshd", "/usr/lib/openssh/sftp-server", "/usr/bin/extlinux"];

/** Bump when the recipe changes (the cache entry is named by it). */
const RECIPE = "installer-iso-v1";

export function installerIso(): Promise<InstallerIso> {
  const recipe = new Bun.CryptoHasher("sha256").update(RECIPE + INIT + DISK_INIT + SSHD_CONFIG + ISOLINUX_CFG + GRUB_CFG + MODULES.join()).digest("hex").slice(0, 12);
  return cachedFile(`installer-iso-${recipe}`, makeIso).then(async (dir) => ({
    iso: join(dir, "installer.iso"),
    kernelVersion: (await Bun.file(join(dir, "kernel-version")).text()).trim(),
  }));
}

async function makeIso(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const work = join(dir, "work");
  const pkg = (await runText(["apt-cache", "depends", "linux-image-amd64"])).match(/Depends: (linux-image-\S+)/)?.[1];
  if (!pkg) throw new Error("apt-cache knows no linux-image-amd64 dependency");
  await mkdir(work, { recursive: true });
  await run(["apt-get", "download", "-q", pkg], { cwd: work });
  const deb = (await readdir(work)).find((f) => f.endsWith(".deb"))!;
  const kernelTree = join(work, "kernel");
  await run(["dpkg-deb", "-x", join(work, deb), kernelTree]);
  const version = (await readdir(join(kernelTree, "lib/modules")))[0]!;
  await run(["busybox", "depmod", "-b", kernelTree, version]);

  const root = join(work, "root");
  const mk = (p: string) => mkdir(join(root, p), { recursive: true });
  for (const d of ["bin", "sbin", "etc/ssh", "root/.ssh", "usr/lib/syslinux", "tmp", "var/log", "run", "proc", "sys", "dev", "mnt"]) await mk(d);
  await cp("/bin/busybox", join(root, "bin/busybox"));
  await symlink("busybox", join(root, "bin/sh"));
  // Dynamic binaries with every library ldd names, at the same paths.
  const libs = new Set<string>();
  for (const bin of BINARIES) {
    await cp(bin, join(root, bin));
    for (const m of (await runText(["ldd", bin])).matchAll(/(\/\S+\.so[^\s]*)/g)) libs.add(m[1]!);
  }
  for (const lib of libs) {
    await mkdir(join(root, dirname(lib)), { recursive: true });
    await cp(lib, join(root, lib), { dereference: true });
  }
  await cp("/usr/lib/syslinux/mbr/mbr.bin", join(root, "usr/lib/syslinux/mbr.bin"));
  await writeFile(join(root, "init"), INIT);
  await writeFile(join(root, "sbin/init"), DISK_INIT);
  await chmod(join(root, "init"), 0o755);
  await chmod(join(root, "sbin/init"), 0o755);
  await writeFile(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\nsshd:x:100:65534::/run/sshd:/bin/false\n");
  await writeFile(join(root, "etc/group"), "root:x:0:\nnogroup:x:65534:\n");
  await writeFile(join(root, "etc/shadow"), "root:*:19000:0:99999:7:::\nsshd:*:19000:0:99999:7:::\n");
  await chmod(join(root, "etc/shadow"), 0o600);
  await writeFile(join(root, "etc/ssh/sshd_config"), SSHD_CONFIG);
  await run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "imgb-installer-host", "-f", join(root, "etc/ssh/ssh_host_ed25519_key")]);
  // The modules and their dependencies (modules.dep), so busybox modprobe finds them.
  const modDir = `lib/modules/${version}`;
  const dep = await Bun.file(join(kernelTree, modDir, "modules.dep")).text();
  const deps = new Map(dep.split("\n").filter(Boolean).map((l) => {
    const [mod, rest] = l.split(":");
    return [mod!, (rest ?? "").trim().split(/\s+/).filter(Boolean)];
  }));
  const byName = new Map([...deps.keys()].map((p) => [p.split("/").at(-1)!.replace(/\.ko.*$/, "").replaceAll("-", "_"), p]));
  const wanted = new Set<string>();
  for (const m of MODULES) {
    const path = byName.get(m);
    if (!path) continue; // built in
    wanted.add(path);
    for (const d of deps.get(path) ?? []) wanted.add(d);
  }
  for (const p of wanted) {
    await mkdir(join(root, modDir, dirname(p)), { recursive: true });
    await cp(join(kernelTree, modDir, p), join(root, modDir, p));
  }
  await writeFile(join(root, modDir, "modules.dep"), dep);

  const cd = join(work, "cd");
  await mkdir(join(cd, "isolinux"), { recursive: true });
  await cp(join(kernelTree, "boot", `vmlinuz-${version}`), join(cd, "vmlinuz"));
  const cpio = await runText(["sh", "-c", `cd '${root}' && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > '${join(cd, "initrd.img")}' && echo ok`]);
  if (!cpio.includes("ok")) throw new Error("making the initramfs failed");
  await cp("/usr/lib/ISOLINUX/isolinux.bin", join(cd, "isolinux/isolinux.bin"));
  await cp("/usr/lib/syslinux/modules/bios/ldlinux.c32", join(cd, "isolinux/ldlinux.c32"));
  await writeFile(join(cd, "isolinux/isolinux.cfg"), ISOLINUX_CFG);
  // UEFI: GRUB as EFI/BOOT/BOOTX64.EFI in a FAT image the CD's El Torito catalogue points at.
  const grubCfg = join(work, "grub.cfg");
  await writeFile(grubCfg, GRUB_CFG);
  const grubEfi = join(work, "BOOTX64.EFI");
  await run(["grub-mkstandalone", "-O", "x86_64-efi", "-o", grubEfi, "--modules=part_msdos iso9660 linux normal search search_fs_file echo", "--locales=", "--fonts=", "--themes=", `boot/grub/grub.cfg=${grubCfg}`]);
  const efiImg = join(cd, "efiboot.img");
  await run(["mkfs.vfat", "-C", efiImg, "4096"]);
  await run(["mmd", "-i", efiImg, "::/EFI", "::/EFI/BOOT"]);
  await run(["mcopy", "-i", efiImg, grubEfi, "::/EFI/BOOT/BOOTX64.EFI"]);
  await run([
    "xorriso", "-as", "mkisofs", "-quiet", "-o", join(dir, "installer.iso"), "-V", "IMGBINST", "-J", "-R",
    "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat", "-no-emul-boot", "-boot-load-size", "4", "-boot-info-table",
    "-eltorito-alt-boot", "-e", "efiboot.img", "-no-emul-boot", cd,
  ]);
  await writeFile(join(dir, "kernel-version"), `${version}\n`);
  await run(["rm", "-rf", work]);
}

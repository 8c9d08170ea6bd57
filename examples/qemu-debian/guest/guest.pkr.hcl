# Step 1 of the qemu-debian example: a BIOS-bootable Debian guest disk (MBR, syslinux, kernel,
# systemd, sshd) made by the rootfs builder. Run from examples/qemu-debian (paths are relative to
# the working directory):
#   ssh-keygen -t ed25519 -N '' -f key && sudo imgb build guest

variable "public_key" {
  type        = string
  default     = "key.pub"
  description = "The key root will accept over SSH."
}

variable "masked_units" {
  type        = list(string)
  default     = ["systemd-timesyncd.service", "apt-daily.timer", "apt-daily-upgrade.timer", "man-db.timer"]
  description = "Units the guest does not need; under TCG each one costs seconds of boot."
}

source "rootfs" "guest" {
  suite            = "bookworm"
  variant          = "minbase"
  packages         = ["linux-image-amd64", "systemd-sysv", "udev", "openssh-server", "iproute2", "cloud-guest-utils"]
  formats          = ["qcow2"]
  bootloader       = "syslinux"
  disk_size        = "2G"
  output_directory = "output-guest"
}

build {
  sources = ["source.rootfs.guest"]

  provisioner "shell" {
    inline = [
      "mkdir -p -m 700 /root/.ssh",
      "printf '[Match]\\nName=e*\\n\\n[Network]\\nDHCP=ipv4\\n' > /etc/systemd/network/20-wired.network",
      "systemctl enable systemd-networkd",
      "systemctl mask ${join(" ", var.masked_units)}",
      "echo debian-guest > /etc/hostname",
      "echo 'LABEL=root / ext4 defaults 0 1' > /etc/fstab",
    ]
  }

  provisioner "file" {
    source      = var.public_key
    destination = "/root/.ssh/authorized_keys"
  }
}

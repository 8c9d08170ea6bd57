# Step 1 of the qemu-debian example: a bootable Debian guest (kernel, systemd, sshd) made by the
# rootfs builder. Run from examples/qemu-debian (paths are relative to the working directory):
#   ssh-keygen -t ed25519 -N '' -f key && sudo imgb build guest

source "rootfs" "guest" {
  suite            = "bookworm"
  variant          = "minbase"
  packages         = ["linux-image-amd64", "systemd-sysv", "udev", "openssh-server", "iproute2"]
  formats          = ["qcow2"]
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
      "systemctl mask systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer man-db.timer",
      "echo debian-guest > /etc/hostname",
      "echo '/dev/vda / ext4 defaults 0 1' > /etc/fstab",
    ]
  }

  provisioner "file" {
    source      = "key.pub"
    destination = "/root/.ssh/authorized_keys"
  }
}

# Step 2 of the qemu-debian example: Packer's qemu builder boots the guest disk from step 1 the way
# a cloud image boots (SeaBIOS, then the disk's own boot loader; headless, user networking, SSH
# forwarded on 127.0.0.1), grows its root partition into the larger disk, provisions it over SSH,
# shuts it down and writes a standalone qcow2. Run from examples/qemu-debian:
#   sudo imgb build .

variable "guest_dir" {
  type    = string
  default = "output-guest"
}

variable "ssh_key" {
  type    = string
  default = "key"
}

source "qemu" "debian" {
  iso_url              = "${var.guest_dir}/guest.qcow2"
  iso_checksum         = "none"
  disk_image           = true
  disk_size            = "4G"
  format               = "qcow2"
  vm_name              = "debian.qcow2"
  memory               = 1024
  ssh_username         = "root"
  ssh_private_key_file = var.ssh_key
  ssh_timeout          = "5m"
  shutdown_command     = "systemctl poweroff"
}

build {
  sources = ["source.qemu.debian"]

  provisioner "shell" {
    inline = [
      "growpart /dev/vda 2 && resize2fs /dev/vda2",
      "echo \"Provisioned over SSH by imgb on $(uname -r)\" > /etc/motd",
      "df -h /",
    ]
  }
}

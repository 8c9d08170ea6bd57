# Step 2 of the qemu-debian example: Packer's qemu builder boots the guest disk from step 1 with
# its own kernel (headless, user networking, SSH forwarded on 127.0.0.1), provisions it over SSH,
# shuts it down and writes a standalone, grown qcow2. Run from examples/qemu-debian:
#   sudo imgb build .

variable "guest_dir" {
  type    = string
  default = "output-guest"
}

source "qemu" "debian" {
  iso_url          = "${var.guest_dir}/guest.qcow2"
  iso_checksum     = "none"
  disk_image       = true
  kernel           = "${var.guest_dir}/guest.vmlinuz"
  initrd           = "${var.guest_dir}/guest.initrd"
  kernel_args      = "root=/dev/vda rw console=ttyS0 quiet"
  disk_size        = "4G"
  format           = "qcow2"
  vm_name          = "debian.qcow2"
  memory           = 1024
  ssh_username     = "root"
  ssh_private_key_file = "key"
  ssh_timeout      = "5m"
  shutdown_command = "systemctl poweroff"
}

build {
  sources = ["source.qemu.debian"]

  provisioner "shell" {
    inline = [
      "resize2fs /dev/vda",
      "echo \"Provisioned over SSH by imgb on $(uname -r)\" > /etc/motd",
      "df -h /",
    ]
  }
}

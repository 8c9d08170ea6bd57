# A Debian root filesystem made with mmdebstrap from the mirror apt uses on this machine,
# provisioned in a chroot, written as a zstd tarball, a raw ext4 image and an OCI archive that
# `podman load` turns into the image the docker-debian example starts from.

variable "suite" {
  type    = string
  default = "bookworm"
}

variable "image_ref" {
  type    = string
  default = "localhost/imgb-examples/debian:bookworm"
}

source "rootfs" "debian" {
  suite     = var.suite
  variant   = "minbase"
  packages  = ["ca-certificates", "procps"]
  formats   = ["tar.zst", "ext4", "oci"]
  image_ref = var.image_ref
}

build {
  sources = ["source.rootfs.debian"]

  provisioner "shell" {
    inline = [
      "echo 'Built by imgb from a rootfs template' > /etc/motd",
      "useradd --create-home --shell /bin/bash builder",
      "apt-get clean && rm -rf /var/lib/apt/lists/*",
    ]
  }
}

# Packer's docker builder, run against podman: start a container from a local Debian image,
# provision it over `podman exec`, commit it with a new entrypoint and labels, then name it
# (docker-tag) and write it to app.tar (docker-save), which `podman load` or `docker load` take.
# No registry is needed: make the base image with examples/debian-rootfs and `podman load` it.

variable "image" {
  type    = string
  default = "localhost/imgb-examples/debian:bookworm"
}

variable "version" {
  type    = string
  default = "1.0"
}

source "docker" "debian" {
  image  = var.image
  pull   = false
  commit = true
  author = "imgb examples"
  changes = [
    "ENTRYPOINT [\"/bin/cat\"]",
    "CMD [\"/etc/motd\"]",
    "ENV GREETING=hello",
    "LABEL org.opencontainers.image.title=imgb-docker-debian",
  ]
}

build {
  sources = ["source.docker.debian"]

  provisioner "shell" {
    inline = [
      "echo \"Committed by imgb at $(date -u +%FT%TZ)\" > /etc/motd",
      "mkdir -p /srv/app && echo ok > /srv/app/health",
    ]
  }

  post-processors {
    post-processor "docker-tag" {
      repository = "localhost/imgb-examples/app"
      tags       = [var.version, "latest"]
    }
    post-processor "docker-save" {
      path = "app.tar"
    }
  }
}

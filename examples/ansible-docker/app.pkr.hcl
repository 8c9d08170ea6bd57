# Packer's docker builder, run against podman, provisioned by Ansible on this computer. ansible-playbook
# reaches the container through imgb's communicator adapter (an SSH server on 127.0.0.1 that runs
# every command with `podman exec`), so the image needs python3 (and sudo for `become`), not sshd.
# The committed image is named localhost/imgb-examples/ansible-app:latest.

variable "image" {
  type    = string
  default = "localhost/imgb-examples/debian-python:bookworm"
}

variable "greeting" {
  type    = string
  default = "hello from ansible"
}

source "docker" "app" {
  image  = var.image
  pull   = false
  commit = true
  changes = ["ENTRYPOINT [\"/bin/cat\"]", "CMD [\"/etc/app.conf\"]"]
}

build {
  sources = ["source.docker.app"]

  provisioner "ansible" {
    playbook_file   = "${path.root}/playbook.yml"
    extra_arguments = ["-e", "greeting='${var.greeting}'"]
  }

  post-processor "docker-tag" {
    repository = "localhost/imgb-examples/ansible-app"
    tags       = ["latest"]
  }
}

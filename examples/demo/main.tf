# The backupctl demo. `make demo` runs it against the project's emulators on
# loopback; every value it needs comes in through variables.

terraform {
  required_providers {
    backupctl = { source = "backupctl/backupctl" }
  }
}

provider "backupctl" {}

# What the machine we back up looks like, as backupctl sees it.
data "backupctl_host" "local" {}

output "host" {
  value = {
    hostname = data.backupctl_host.local.hostname
    os       = data.backupctl_host.local.os
    tar      = data.backupctl_host.local.tools["tar"]
  }
}

provider "backupctl" {
  hosts = {
    # A GDS cluster node reached over SSH. Host keys are always verified.
    gds1 = {
      address          = "192.0.2.11"
      user             = "root"
      private_key      = file("~/.ssh/id_ed25519")
      known_hosts_file = "~/.ssh/known_hosts"
      env              = { PATH = "/usr/sbin:/usr/bin:/sbin:/bin:/opt/FJSVsdx/bin" }
    }
    # An SMF server where an operator account may use sudo without a password.
    smf1 = {
      address     = "smf1.example.jp:2222"
      user        = "backup"
      private_key = file("~/.ssh/backup_ed25519")
      host_key    = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIIqv0L0tbhRr1Hcg3h4SzhOB1CkF2xIxAR0dy1Cmr8H5"
      sudo        = true
      # Log in only when a command needs this host, not at every plan.
      connect_early = false
    }
  }

  # KCPS ver1 account; the secret can also come from BACKUPCTL_KCPS_SECRET_KEY.
  kcps = {
    endpoint = "https://kcps.example.invalid/client/api"
    api_key  = var.kcps_api_key
  }
}

variable "kcps_api_key" {
  type = string
}

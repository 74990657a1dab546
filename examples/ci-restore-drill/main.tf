# Restore drills run by CI (restore-drill.yml): every run restores the
# newest backups into scratch targets, verifies them and fails the job when
# a restore, a check, a verify command or a recovery objective fails. The
# workflow destroys the drill afterwards, whatever happened.
terraform {
  required_version = ">= 1.11.0"
  required_providers {
    backupctl = {
      source = "backupctl/backupctl"
    }
  }
  # Keep the state somewhere that outlives the runner (an s3, http, pg...
  # backend) so that the destroy of a run cut short can be done later.
}

variable "run_id" {
  type        = string
  description = "CI run id: a new value runs every drill again."
}

variable "ssh_private_key" {
  type        = string
  sensitive   = true
  description = "Private key of the drill user on nas1 and drill1 (a CI secret)."
}

variable "known_hosts_file" {
  type        = string
  description = "known_hosts listing nas1 and drill1 (host keys are always checked)."
}

provider "backupctl" {
  hosts = {
    # Holds the archives of backupctl_backup_policy.
    nas1 = {
      address          = "nas1.backup.example.internal"
      user             = "drill"
      private_key      = var.ssh_private_key
      known_hosts_file = var.known_hosts_file
      sudo             = true
    }
    # A scratch host for drills; nothing runs there but the drills.
    drill1 = {
      address          = "drill1.backup.example.internal"
      user             = "drill"
      private_key      = var.ssh_private_key
      known_hosts_file = var.known_hosts_file
      sudo             = true # owners are restored (and checked) only as root
    }
  }
  # KCPS: BACKUPCTL_KCPS_ENDPOINT, BACKUPCTL_KCPS_API_KEY and
  # BACKUPCTL_KCPS_SECRET_KEY come from the CI secrets.
}

locals {
  drill_root = "/var/tmp/restore-drill/${var.run_id}"
}

# ---- SMF ARMS-Proxy and Heartbeat archives (seed 000) ----

data "backupctl_backup_generations" "arms_proxy" {
  host   = "nas1"
  path   = "/backup/smf1/arms-proxy"
  verify = "checksum"
}

resource "backupctl_restore_from_snapshot" "arms_proxy" {
  archive = {
    generation_id = data.backupctl_backup_generations.arms_proxy.generations[0].id
    from_host     = "nas1"
    from_path     = "/backup/smf1/arms-proxy"
    target_host   = "drill1"
    target_path   = "${local.drill_root}/arms-proxy"
  }
  verify = {
    commands = [
      "test -s $RESTORE_PATH/var/service/smf/etc/proxy.cfg",
      "openssl x509 -noout -checkend 0 -in $RESTORE_PATH/var/service/smf/etc/rs-cert.pem",
      "openssl pkey -noout -in $RESTORE_PATH/var/service/smf/etc/rs-key.pem",
      "test -d $RESTORE_PATH/var/service/smf/var/proxy",
    ]
    timeout = "5m"
  }
  max_rpo = "26h" # the backup runs daily
  max_rto = "30m"
  trigger = var.run_id
}

data "backupctl_backup_generations" "heartbeat" {
  host = "nas1"
  path = "/backup/smf1/heartbeat"
}

resource "backupctl_restore_from_snapshot" "heartbeat" {
  archive = {
    generation_id = data.backupctl_backup_generations.heartbeat.generations[0].id
    from_host     = "nas1"
    from_path     = "/backup/smf1/heartbeat"
    target_host   = "drill1"
    target_path   = "${local.drill_root}/heartbeat"
  }
  verify = {
    commands = ["grep -q '^interval' $RESTORE_PATH/var/service/smf/etc/hbserver.conf"]
  }
  max_rpo = "26h"
  max_rto = "30m"
  trigger = var.run_id
}

# ---- KCPS VM from its newest snapshots (seed 004) ----

data "backupctl_kcps_snapshots" "web01_root" {
  volume_id = "9e5f6071-0000-4000-8000-000000000901"
}

data "backupctl_kcps_snapshots" "web01_data" {
  volume_id = "9e5f6071-0000-4000-8000-000000000902"
}

resource "backupctl_restore_from_snapshot" "web01" {
  kcps = {
    root_snapshot_id    = data.backupctl_kcps_snapshots.web01_root.latest_id
    data_snapshot_ids   = [data.backupctl_kcps_snapshots.web01_data.latest_id]
    name                = "web01-drill"
    service_offering_id = "5a1b2c3d-0000-4000-8000-000000000501"
    network_id          = "6b2c3d4e-0000-4000-8000-000000000601"
    os_type_id          = "7c3d4e5f-0000-4000-8000-000000000701"
  }
  verify = {
    # Runs on the CI runner ("local") with RESTORE_VM_ID and friends set.
    commands = ["test -n \"$RESTORE_VM_ID\"", "./check-vm.sh"]
    timeout  = "30m"
  }
  max_rpo = "192h" # weekly snapshots, one may be late
  max_rto = "4h"
  trigger = var.run_id
  timeouts {
    create = "6h"
    delete = "2h"
  }
}

# ---- what CI prints ----

output "verified" {
  description = "Whether each drill passed (only set when the apply succeeded)."
  value = {
    arms_proxy = backupctl_restore_from_snapshot.arms_proxy.verified
    heartbeat  = backupctl_restore_from_snapshot.heartbeat.verified
    web01      = backupctl_restore_from_snapshot.web01.verified
  }
}

output "rto_seconds" {
  value = {
    arms_proxy = backupctl_restore_from_snapshot.arms_proxy.rto_seconds
    heartbeat  = backupctl_restore_from_snapshot.heartbeat.rto_seconds
    web01      = backupctl_restore_from_snapshot.web01.rto_seconds
  }
}

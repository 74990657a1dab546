# Eight generations of the database VM's data volume. Changing `trigger`
# (here: once a week, from a CI variable) takes a new snapshot; once it is
# BackedUp the oldest generation beyond `keep` is deleted. The plan lists
# the snapshot ids that will be deleted.
variable "backup_week" {
  type    = string
  default = "2026-W14"
}

resource "backupctl_kcps_volume_snapshot" "db_data" {
  volume_id = "9e5f6071-0000-4000-8000-000000000904"
  keep      = 8
  trigger   = var.backup_week

  # KCPS snapshots a volume only while its VM is stopped: stop it, take
  # the snapshot, start it again if it was running.
  vm_power = "stop_start"

  timeouts {
    create = "5h" # a 100 GB volume takes about 3 hours
    update = "5h"
  }
}

output "latest_db_snapshot" {
  value = backupctl_kcps_volume_snapshot.db_data.latest_snapshot_id
}

# Every snapshot of a volume, newest first: manual generations and the
# snapshots of its policies.
data "backupctl_kcps_snapshots" "db_data" {
  volume_id = "9e5f6071-0000-4000-8000-000000000904"
}

# Only the manual ones.
data "backupctl_kcps_snapshots" "db_data_manual" {
  volume_id     = "9e5f6071-0000-4000-8000-000000000904"
  interval_type = "MANUAL"
}

output "newest_backed_up" {
  value = data.backupctl_kcps_snapshots.db_data.latest_id
}

output "restorable_in_zone" {
  value = distinct([for s in data.backupctl_kcps_snapshots.db_data.snapshots : s.zone_id])
}

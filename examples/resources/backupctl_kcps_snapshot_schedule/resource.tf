# KCPS takes a snapshot of the volume every Sunday at 02:30 JST and keeps
# the last four.
resource "backupctl_kcps_snapshot_schedule" "weekly" {
  volume_id = "9e5f6071-0000-4000-8000-000000000904"
  interval  = "weekly"
  minute    = 30
  hour      = 2
  day       = 1 # 1 = Sunday ... 7 = Saturday
  timezone  = "Asia/Tokyo"
  keep      = 4
}

# An hourly policy needs only the minute.
resource "backupctl_kcps_snapshot_schedule" "hourly" {
  volume_id = "9e5f6071-0000-4000-8000-000000000905"
  interval  = "hourly"
  minute    = 15
  keep      = 8
}

output "gds_snapshot" {
  description = "The proxy volume holding last night's snapshot."
  value = {
    device    = backupctl_gds_proxy_pair.db.proxy_device
    state     = backupctl_gds_proxy_pair.db.state
    parted_at = backupctl_gds_proxy_pair.db.parted_at
  }
}

output "kcps_generations" {
  description = "web01's data volume snapshots, newest first."
  value       = [for g in backupctl_kcps_volume_snapshot.web01_data.generations : "${g.name} ${g.state} (run ${coalesce(g.trigger, "by hand")})"]
}

output "kcps_oldest_snapshot_id" {
  value = backupctl_kcps_volume_snapshot.web01_data.generations[length(backupctl_kcps_volume_snapshot.web01_data.generations) - 1].id
}

output "archives" {
  description = "Archive generations on the NAS, newest first."
  value = {
    for k, p in {
      arms_proxy = backupctl_backup_policy.arms_proxy
      heartbeat  = backupctl_backup_policy.heartbeat
      groupmax   = backupctl_backup_policy.groupmax
    } : k => [for g in p.generations : "${g.id} (${g.files} files, ${g.bytes} bytes)"]
  }
}

output "drill_report" {
  description = "The restore drill's report (JSON), when var.drill is set."
  value       = one(backupctl_restore_from_snapshot.arms_proxy_drill[*].report)
}

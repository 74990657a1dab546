# The archives of a backup destination, newest first, checked against
# their manifests.
data "backupctl_backup_generations" "arms_proxy" {
  host   = "nas1"
  path   = "/backup/smf1/arms-proxy"
  verify = "checksum"
}

output "latest_arms_proxy_archive" {
  value = try(data.backupctl_backup_generations.arms_proxy.generations[0].file, null)
}

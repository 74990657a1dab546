# Check a host before pointing backups at it.
data "backupctl_host" "gds1" {
  host = "gds1"
}

output "gds_tools_present" {
  value = data.backupctl_host.gds1.tools["sdxinfo"] && data.backupctl_host.gds1.tools["sdxproxy"]
}

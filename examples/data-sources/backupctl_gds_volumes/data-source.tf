data "backupctl_gds_volumes" "class1" {
  host  = "gds1"
  class = "Class1"
}

# Proxies currently parted, i.e. holding a snapshot.
output "parted_proxies" {
  value = [for p in data.backupctl_gds_volumes.class1.proxies : p.proxy if p.state == "parted"]
}

# Slices still copying anywhere in the class.
output "copying_slices" {
  value = flatten([
    for v in data.backupctl_gds_volumes.class1.volumes : [
      for s in v.slices : "${v.name}@${s.disk}" if s.status == "COPY"
    ]
  ])
}

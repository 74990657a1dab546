variable "backup_date" {
  description = "Changes once per backup run (for example the date from CI): a new value takes a fresh snapshot."
  type        = string
}

# Seed 003 as a resource: Volume2 is the proxy of Volume1 in the shared
# class Class1. Apply keeps it parted as a snapshot of the last backup run,
# so that an instant restore stays possible until the next run.
resource "backupctl_gds_proxy_pair" "db" {
  host      = "gds1"
  class     = "Class1"
  master    = "Volume1"
  proxy     = "Volume2"
  all_nodes = true # shared class: sdxvolume -F -e allnodes
  state     = "parted"

  # Changing it while parted: stop the proxy, Rejoin, wait for the copy,
  # quiesce, Part.
  snapshot_trigger = var.backup_date

  # Steps 3 and 5 of the manual: no writes to the master during Part.
  quiesce = {
    before = ["systemctl stop app.service", "umount /DATA"]
    after  = ["mount -t ext3 /dev/sfdsk/Class1/dsk/Volume1 /DATA", "systemctl start app.service"]
  }

  timeouts {
    create = "6h"
    update = "2h"
  }
}

# A group pair: every volume of Group1 gets a proxy volume in Group2, which
# must hold no volumes before the Join.
resource "backupctl_gds_proxy_pair" "group" {
  host   = "gds1"
  class  = "Class1"
  master = "Group1"
  proxy  = "Group2"
  volume_map = {
    Volume3 = "Proxy3"
    Volume4 = "Proxy4"
  }
  all_nodes = true
  state     = "joined"
}

# The snapshot device, for dd or a read-only mount (seed 003 step 6).
output "snapshot_device" {
  value = backupctl_gds_proxy_pair.db.proxy_device
}

# A restore drill of the newest SMF ARMS-Proxy archive (seed 000): the
# generation's SHA-256 is checked, it is written into a scratch directory of
# another host, every file is compared with the manifest, and the verify
# commands run there. The apply fails when anything fails or when the backup
# is older than 26 hours: run it in CI (see examples/ci-restore-drill).
data "backupctl_backup_generations" "arms_proxy" {
  host = "nas1"
  path = "/backup/smf1/arms-proxy"
}

resource "backupctl_restore_from_snapshot" "arms_proxy_drill" {
  archive = {
    generation_id = data.backupctl_backup_generations.arms_proxy.generations[0].id
    from_host     = "nas1"
    from_path     = "/backup/smf1/arms-proxy"
    target_host   = "drill1"
    target_path   = "/var/tmp/restore-drill/arms-proxy"
  }
  verify = {
    commands = [
      "test -s $RESTORE_PATH/var/service/smf/etc/proxy.cfg",
      "openssl x509 -noout -checkend 0 -in $RESTORE_PATH/var/service/smf/etc/rs-cert.pem",
    ]
    timeout = "5m"
  }
  max_rpo = "26h"
  max_rto = "30m"
  # A new generation runs the drill again.
  trigger = data.backupctl_backup_generations.arms_proxy.generations[0].id
}

# Recovery of an Interstage managed server (seed 001): its files are written
# back in place, between isstop -f and isstart. Only a backup of the same
# server group is accepted.
data "backupctl_backup_generations" "is_m2" {
  host = "nas1"
  path = "/backup/is-m2"
}

resource "backupctl_restore_from_snapshot" "is_m2" {
  archive = {
    generation_id = data.backupctl_backup_generations.is_m2.generations[0].id
    from_host     = "nas1"
    from_path     = "/backup/is-m2"
    target_host   = "is-m2"
    target_path   = "/"
    overwrite     = true
  }
  mode           = "in_place"
  confirm        = "is-m2:/"
  require_labels = { server_group = "group1" }
  verify = {
    commands = ["isstat"]
  }
}

# Instant restore of a GDS proxy volume onto its master (seed 003), with the
# database stopped and the file system unmounted around it.
variable "db_snapshot_parted_at" {
  type        = string
  description = "When the proxy was parted: backupctl_gds_proxy_pair.<name>.parted_at."
}

resource "backupctl_restore_from_snapshot" "db_volume" {
  gds = {
    host          = "gds1"
    class         = "Class1"
    proxy         = "Volume2"
    instant       = true
    snapshot_time = var.db_snapshot_parted_at
    quiesce = {
      before = ["/sbin/service postgresql stop", "umount /srv/db"]
      after  = ["mount /dev/sfdsk/Class1/dsk/Volume1 /srv/db", "/sbin/service postgresql start"]
    }
  }
  mode    = "in_place"
  confirm = "gds1/Class1/Volume2"
  verify = {
    commands = ["su - postgres -c 'psql -Atc \"select count(*) from pg_database\"'"]
  }
}

# A KCPS VM rebuilt from its newest snapshots in the same zone (seed 004):
# template from the ROOT snapshot, VM, data volume, attach. Destroy removes
# the VM, the volume and the template again.
data "backupctl_kcps_snapshots" "web01_root" {
  volume_id = "9e5f6071-0000-4000-8000-000000000901"
}

data "backupctl_kcps_snapshots" "web01_data" {
  volume_id = "9e5f6071-0000-4000-8000-000000000902"
}

resource "backupctl_restore_from_snapshot" "web01_drill" {
  kcps = {
    root_snapshot_id    = data.backupctl_kcps_snapshots.web01_root.latest_id
    data_snapshot_ids   = [data.backupctl_kcps_snapshots.web01_data.latest_id]
    name                = "web01-drill"
    service_offering_id = "5a1b2c3d-0000-4000-8000-000000000501"
    network_id          = "6b2c3d4e-0000-4000-8000-000000000601"
    os_type_id          = "7c3d4e5f-0000-4000-8000-000000000701"
  }
  verify = {
    # Runs on "local": the script asks the portal for the VM's state and
    # its attached volumes.
    commands = ["./scripts/check-vm.sh \"$RESTORE_VM_ID\" \"$RESTORE_VOLUME_IDS\""]
    timeout  = "20m"
  }
  max_rpo = "192h" # 8 days: one weekly snapshot may be missed
  timeouts {
    create = "8h"
  }
}

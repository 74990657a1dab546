# The backupctl demo: `make demo` (examples/demo/run.sh) applies this against
# the project's emulators and a loopback sshd. Four "servers" — gds1, smf1,
# gm1 and drill1 — are one sshd reached over real SSH; each has its own
# environment, and its files live below var.lab_dir. The machine running
# terraform ("local") plays the backup server (NAS) holding the archives.

terraform {
  required_version = ">= 1.11.0"
  required_providers {
    backupctl = { source = "backupctl/backupctl" }
  }
}

locals {
  ssh = {
    address          = var.ssh_address
    user             = var.ssh_user
    private_key      = file(var.ssh_private_key_file)
    known_hosts_file = var.ssh_known_hosts_file
  }
  system_path = "/usr/sbin:/usr/bin:/sbin:/bin"

  gds_root  = "${var.lab_dir}/gds/root"
  gds_log   = "${local.gds_root}/calls.log" # the emulator's log of sdx commands
  smf       = "${var.lab_dir}/smf1/var/service/smf"
  groupmail = "${var.lab_dir}/gm1/GroupMail"
  nas       = "${var.lab_dir}/nas"
}

provider "backupctl" {
  hosts = {
    # A PRIMECLUSTER GDS node; its sdx commands are the GDS emulator.
    gds1 = merge(local.ssh, {
      env = {
        PATH        = "${var.lab_dir}/gds/bin:${local.system_path}"
        GDSEMU_ROOT = local.gds_root
      }
    })
    # The SMF server (ARMS-Proxy and Heartbeat).
    smf1 = merge(local.ssh, { env = { PATH = local.system_path } })
    # The Groupmax master management server; its APSTOP, GM_STOP, xodstop...
    # are stand-ins that log what they would do.
    gm1 = merge(local.ssh, {
      env = { PATH = "${local.groupmail}/bin:${local.system_path}" }
    })
    # A scratch host for restore drills.
    drill1 = merge(local.ssh, { env = { PATH = local.system_path } })
  }
  # KCPS: BACKUPCTL_KCPS_ENDPOINT, _API_KEY and _SECRET_KEY come from the
  # emulator (run.sh), as they would come from CI secrets.
}

# ---- GDS: the database volume's proxy, parted as last night's snapshot ----
# By hand (seed 003): sdxvolume -F the proxy on every node, sdxproxy Rejoin,
# wait for the copy, stop the application and unmount, sdxproxy Part, mount
# and start again. The quiesce commands here only log what they stand for.
resource "backupctl_gds_proxy_pair" "db" {
  host             = "gds1"
  class            = "Class1"
  master           = "Volume1"
  proxy            = "Volume2"
  all_nodes        = true
  state            = "parted"
  snapshot_trigger = var.backup_run
  quiesce = {
    before = [
      "echo '# quiesce: systemctl stop app.service' >> ${local.gds_log}",
      "echo '# quiesce: umount /DATA' >> ${local.gds_log}",
    ]
    after = [
      "echo '# quiesce: mount /dev/sfdsk/Class1/dsk/Volume1 /DATA' >> ${local.gds_log}",
      "echo '# quiesce: systemctl start app.service' >> ${local.gds_log}",
    ]
  }
}

# ---- KCPS: eight generations of web01's data volume ----
# Until now an operator took these snapshots by hand in the Admin Console
# (stop web01, snapshot, wait, start web01, delete the oldest): backupctl
# adopts the eight that exist and rotates them from now on.
import {
  to = backupctl_kcps_volume_snapshot.web01_data
  id = var.kcps_volume_id
}

resource "backupctl_kcps_volume_snapshot" "web01_data" {
  volume_id     = var.kcps_volume_id
  keep          = 8
  trigger       = var.backup_run
  vm_power      = "stop_start" # web01 runs: stop it for the snapshot
  force_destroy = true         # the demo's destroy deletes the generations
}

# ---- SMF ARMS-Proxy and Heartbeat (seed 000): tar+gz, owners kept ----
resource "backupctl_backup_policy" "arms_proxy" {
  host        = "smf1"
  application = "smf_arms_proxy"
  # The preset's paths, below the lab instead of /var/service/smf.
  paths = [
    "${local.smf}/var/proxy",
    "${local.smf}/etc/proxy.cfg",
    "${local.smf}/etc/ca-cert.pem",
    "${local.smf}/etc/rs-cert.pem",
    "${local.smf}/etc/rs-key.pem",
  ]
  destination = {
    host = "local"
    path = "${local.nas}/smf1/arms-proxy"
  }
  keep          = 2
  trigger       = var.backup_run
  labels        = { site = "tokyo" }
  force_destroy = true
}

resource "backupctl_backup_policy" "heartbeat" {
  host        = "smf1"
  application = "smf_heartbeat"
  paths = [
    "${local.smf}/var/hb",
    "${local.smf}/etc/hbserver.conf",
    "${local.smf}/etc/hbprop.inc",
    "${local.smf}/etc/hbprop",
  ]
  destination = {
    host = "local"
    path = "${local.nas}/smf1/heartbeat"
  }
  keep          = 2
  trigger       = var.backup_run
  force_destroy = true
}

# ---- Groupmax master management server (seed 002) ----
# The preset stops the Groupmax servers, the address service and Object
# Server, archives the GroupMail directories, clears the journal
# (MNG_JOURNAL/MCH_JOURNAL/*) only after the archive is verified, and starts
# everything again in reverse order, even when the backup failed.
resource "backupctl_backup_policy" "groupmax" {
  host        = "gm1"
  application = "groupmax_master"
  labels = {
    groupmail_dir = local.groupmail
    mng_journal   = "${var.lab_dir}/gm1/MNG_JOURNAL"
  }
  destination = {
    host = "local"
    path = "${local.nas}/gm1/groupmax"
  }
  keep          = 2
  trigger       = var.backup_run
  force_destroy = true
}

# ---- A restore drill of the newest ARMS-Proxy archive ----
# Checksum checked, extracted on drill1 over SSH, every file compared with
# the manifest, the verify commands run there; the apply fails when the
# backup is older than max_rpo or the drill takes longer than max_rto.
resource "backupctl_restore_from_snapshot" "arms_proxy_drill" {
  count = var.drill ? 1 : 0
  archive = {
    generation_id = backupctl_backup_policy.arms_proxy.generations[0].id
    from_host     = "local"
    from_path     = backupctl_backup_policy.arms_proxy.destination.path
    target_host   = "drill1"
    target_path   = "${var.lab_dir}/drill1/restore-drill/arms-proxy"
  }
  verify = {
    commands = [
      "test -s $RESTORE_PATH${local.smf}/etc/proxy.cfg",
      "grep -q '^listen' $RESTORE_PATH${local.smf}/etc/proxy.cfg",
      "test $(find $RESTORE_PATH${local.smf}/var/proxy -type f | wc -l) -ge 6",
    ]
    timeout = "2m"
  }
  max_rpo = "1h"
  max_rto = "10m"
  trigger = backupctl_backup_policy.arms_proxy.generations[0].id
}

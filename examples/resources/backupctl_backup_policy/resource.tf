# Seven archives of the SMF ARMS-Proxy data (seed 000): the preset supplies
# /var/service/smf/var/proxy and the config files; a new generation is
# taken whenever trigger changes (here: once a day).
resource "backupctl_backup_policy" "arms_proxy" {
  host        = "smf1"
  application = "smf_arms_proxy"
  destination = {
    host = "nas1"
    path = "/backup/smf1/arms-proxy"
  }
  keep    = 7
  trigger = formatdate("YYYY-MM-DD", plantimestamp())
  labels  = { site = "tokyo" }
}

# SMF RS: the whole DBMS is dumped with a single transaction; the password
# is write-only (Terraform 1.11+) and never stored in state.
variable "rs_db_password" {
  type      = string
  sensitive = true
  ephemeral = true
}

resource "backupctl_backup_policy" "rs" {
  host        = "smf1"
  application = "smf_rs"
  database = {
    engine   = "mysql"
    host     = "127.0.0.1"
    user     = "backup"
    password = var.rs_db_password
  }
  destination = {
    path   = "/backup/smf1/rs"
    format = "tar.zst"
  }
  keep              = 7
  trigger           = "2026-11-22"
  verify_on_refresh = "checksum"
}

# Groupmax address server in a multi-server site (seed 002): nxsrepstat,
# APSTOP, address service, Object Server stop; the journal of this server
# is cleared on the master management server after a verified archive;
# everything is started again in reverse order.
resource "backupctl_backup_policy" "groupmax" {
  host        = "gm-addr1"
  application = "groupmax_server"
  # The preset's directories plus the Object Server database files.
  paths = [
    "/usr/GroupMail/Groupmax",
    "/usr/GroupMail/nxcdir",
    "/usr/GroupMail/nxudir",
    "/usr/GroupMail/nxrdir",
    "/usr/GroupMail/nxsdir",
    "/usr/GroupMail/oafkairan",
    "/usr/GroupMail/x400/config",
    "/usr/GroupMail/x400/runtime",
    "/usr/GroupMail/isp",
    "/gmdb/objsrv",
  ]
  destination = { path = "/backup/groupmax/gm-addr1" }
  keep        = 3
  trigger     = "weekly-2026-47"
  labels = {
    master_host   = "gm-master"
    groupmax_host = "gm-addr1"
  }
}

# Interstage managed server: isstop -f / isstart around user-listed export
# commands; the server group is recorded so that a restore can refuse
# another group's backup.
resource "backupctl_backup_policy" "interstage" {
  host        = "is-managed1"
  application = "interstage_managed"
  export = [
    "irepbacksys -d \"$BACKUP_EXPORT_DIR/irep\" -R",
  ]
  destination = { path = "/backup/interstage/is-managed1" }
  keep        = 5
  trigger     = "2026-11-22"
  labels      = { server_group = "sg-web" }
}

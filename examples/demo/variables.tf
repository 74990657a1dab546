# Everything the demo needs from the machine it runs on. run.sh sets them
# (TF_VAR_*) for the lab it builds in its temporary directory; the defaults
# only keep `terraform validate` happy.

variable "lab_dir" {
  description = "The demo's lab: emulated servers' files live below it (run.sh makes it)."
  type        = string
  default     = "/var/tmp/backupctl-demo/lab"
}

variable "ssh_address" {
  description = "The loopback sshd that plays the servers gds1, smf1, gm1 and drill1."
  type        = string
  default     = "127.0.0.1:22"
}

variable "ssh_user" {
  type    = string
  default = "root"
}

variable "ssh_private_key_file" {
  type    = string
  default = "~/.ssh/id_ed25519"
}

variable "ssh_known_hosts_file" {
  type    = string
  default = "~/.ssh/known_hosts"
}

variable "backup_run" {
  description = "The nightly backup run: a new value takes a new generation everywhere."
  type        = string
  default     = "1"
}

variable "kcps_volume_id" {
  description = "KCPS volume snapshotted by hand until now (DATA-web01 in the emulator's seed)."
  type        = string
  default     = "9e5f6071-0000-4000-8000-000000000902"
}

variable "drill" {
  description = "Run the restore drill of the newest SMF ARMS-Proxy archive."
  type        = bool
  default     = false
}

// Package restore runs restores and restore drills of the backups backupctl
// takes: an archive generation written back onto a host, a GDS proxy volume
// copied back onto its master (sdxproxy Restore), or a KCPS VM rebuilt from
// its volume snapshots (template from the ROOT snapshot, VM, volumes from the
// data snapshots, attach).
//
// A restore is measured: the recovery point (how old the restored backup
// was when the restore started, RPO) is checked against its limit before
// anything changes, the recovery time (restore plus verification, RTO)
// after. User-written verification commands run on the restored target
// with a timeout. Everything that happened goes into a Report (steps with
// durations, checks, notes, the objects created) that is stable JSON.
//
// Time comes from an injected clock, so that tests and the provider decide
// what "now" is. The package knows nothing of Terraform.
package restore

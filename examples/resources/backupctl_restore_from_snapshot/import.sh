# kcps:<name> adopts what a drill of that name left behind (the VM, its
# <name>-restore-data<N> volumes and its <name>-restore-root template), for
# example after its state was lost: destroy (or the next apply, which runs
# the drill again) removes them. archive:<target_host>:<target_path> and
# gds:<host>/<class>/<proxy> only record the id; nothing is adopted.
terraform import backupctl_restore_from_snapshot.web01_drill kcps:web01-drill

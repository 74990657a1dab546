# The volume id. The volume's existing manual snapshots (state BackedUp)
# become the generations; scheduled (policy) snapshots are left alone. The
# first trigger value after an import is recorded without a snapshot.
terraform import backupctl_kcps_volume_snapshot.db_data 9e5f6071-0000-4000-8000-000000000904

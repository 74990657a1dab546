# <volume id>/<interval> or <volume id>/<policy id>: KCPS lists policies
# only per volume.
terraform import backupctl_kcps_snapshot_schedule.weekly 9e5f6071-0000-4000-8000-000000000904/weekly

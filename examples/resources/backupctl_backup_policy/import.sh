# <destination host>:<destination path>. The archives found there are
# adopted as generations; host, application, labels and trigger are read
# from the newest generation's labels file.
terraform import backupctl_backup_policy.arms_proxy nas1:/backup/smf1/arms-proxy

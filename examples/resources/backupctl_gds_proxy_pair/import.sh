# host/class/proxy: the proxy volume, or the proxy group of a group pair.
terraform import backupctl_gds_proxy_pair.db gds1/Class1/Volume2

package apps

// SMF SDK (seed 000). The manual asks for a periodic copy of the data
// trees, owners and permissions kept; it does not ask for the daemons to
// be stopped, so the presets stop nothing (add stop/start to quiesce).

const smfEtc = "/var/service/smf/etc"

func smfArmsProxy(map[string]string) (Preset, error) {
	return Preset{
		Title: "SMF ARMS-Proxy",
		Seed:  "000",
		Paths: []string{
			"/var/service/smf/var/proxy",
			smfEtc + "/proxy.cfg",
			smfEtc + "/ca-cert.pem",
			smfEtc + "/rs-cert.pem",
			smfEtc + "/rs-key.pem",
		},
		Restore: Restore{
			Start: []string{"/sbin/service arms-proxy restart"},
			Notes: []string{
				"ARMS-Proxy data written back; arms-proxy restarted.",
			},
		},
		Notes: []string{
			"From SMF 3.1, when ARMS-Proxy stores operation results in RS, the DBMS backup (smf_rs) is enough and this archive is not needed.",
			"rs-key.pem is a private key: the archive must be kept as safely as the server.",
		},
	}, nil
}

func smfHeartbeat(map[string]string) (Preset, error) {
	return Preset{
		Title: "SMF Heartbeat",
		Seed:  "000",
		Paths: []string{
			"/var/service/smf/var/hb",
			smfEtc + "/hbserver.conf",
			smfEtc + "/hbprop.inc",
			smfEtc + "/hbprop",
		},
		Restore: Restore{
			Start: []string{"/sbin/service hbserver restart"},
			Notes: []string{
				"After a Heartbeat restore the monitoring status may disagree with RS and SA; the SMF SDK offers no way to resynchronize it (a redundant setup is recommended).",
			},
		},
	}, nil
}

func smfRS(map[string]string) (Preset, error) {
	return Preset{
		Title: "SMF RS (rs-api on Tomcat)",
		Seed:  "000",
		Paths: []string{
			smfEtc + "/rs-api.properties",
			smfEtc + "/rs-webui.properties",
		},
		RequiresDatabase: true,
		Restore: Restore{
			Start: []string{
				"/sbin/service httpd restart",
				"/sbin/service tomcat restart",
			},
			Notes: []string{
				"Restore the RS database from the dump in the archive (database/), then the configuration files; Apache and Tomcat are restarted.",
			},
		},
		Notes: []string{
			"RS keeps its data in the DBMS: the whole DBMS is dumped (database block required; the SMF docs recommend MySQL or Oracle).",
			"rs-webui.properties exists only with the demo WebUI; remove it from paths otherwise.",
		},
	}, nil
}

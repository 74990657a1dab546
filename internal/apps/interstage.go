package apps

// Interstage Application Server multi-server operation (seed 001, 4.4.2).
// Interstage is stopped on the server being backed up (isstop -f) and
// started again (isstart). What is exported depends on the services in
// use (irepbacksys for the Directory Service, ssobackup for SSO...): the
// preset names no paths; list the export commands (they write into
// $BACKUP_EXPORT_DIR) or paths.

func interstageCommon() Preset {
	return Preset{
		Seed:            "001",
		Stop:            []string{"isstop -f"},
		Start:           []string{"isstart"},
		RequiresContent: true,
		Notes: []string{
			"Back up both the admin server and every managed server: if their definitions differ, recovering the site is hard.",
			"Site certificates may not be importable on another server, depending on the certificate authority's policy.",
		},
	}
}

func interstageAdmin(map[string]string) (Preset, error) {
	p := interstageCommon()
	p.Title = "Interstage admin server"
	p.Restore = Restore{
		Stop:  []string{"isstop -f"},
		Start: []string{"isstart"},
	}
	return p, nil
}

func interstageManaged(labels map[string]string) (Preset, error) {
	p := interstageCommon()
	p.Title = "Interstage managed server"
	p.RequiredLabels = []string{LabelServerGroup}
	p.Restore = Restore{
		Stop:        []string{"isstop -f"},
		Start:       []string{"isstart"},
		MatchLabels: []string{LabelServerGroup},
		Notes: []string{
			"Remove the managed server from its server group before the restore and add it back afterwards (admin console).",
			"Only a backup of the same server group may be restored into a managed server.",
			"Restore and import samples take -s on a managed server.",
			"When importing into another (reserve) server, change the server-specific information (IP address etc.) before adding it to the group.",
		},
	}
	return p, nil
}

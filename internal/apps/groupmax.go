package apps

import "strings"

// Groupmax Address/Mail Server (seed 002, manual 15.2.3, automated
// variants (2) and (4)). nxbackup asks for a special file and a Y/N
// answer, so it is never used: the directories are archived directly.
//
// Order: [server: nxsrepstat] -> APSTOP (the Groupmax servers) -> stop the
// address service -> stop Object Server -> archive -> clear the journal ->
// start in reverse order.

// groupmaxDirs are what the manual lists under /usr/GroupMail
// (/var/opt/GroupMail on HP-UX and AIX). Object Server database files are
// site-specific: add them to paths.
var groupmaxDirs = []string{
	"Groupmax", "nxcdir", "nxudir", "nxrdir", "nxsdir", "oafkairan",
	"x400/config", "x400/runtime", "isp",
}

const defaultGroupMailDir = "/usr/GroupMail"

func groupmaxCommon(preset string, labels map[string]string) (Preset, string, error) {
	base, err := absLabel(preset, labels, LabelGroupMailDir, defaultGroupMailDir)
	if err != nil {
		return Preset{}, "", err
	}
	bin := base + "/bin/"
	p := Preset{
		Seed: "002",
		Stop: []string{
			q(bin + "APSTOP"),  // the Groupmax servers on this host
			q(bin + "GM_STOP"), // the address service
			"xodstop",          // Object Server
		},
		Start: []string{
			"xodstart",
			q(bin + "GM_START"),
			q(bin + "APSTART"),
		},
		Restore: Restore{
			Notes: []string{
				"Groupmax restore: stop everything, reinstall and run GM_SETUP, write the directories back (or nxrestore), start, repair the data, then run nxsrepstat until replication completes.",
				"Object Server database files must be restored from the same point in time as the directories.",
			},
		},
		Notes: []string{
			"Add every Object Server database file to paths: all must be taken at the same time as the directories.",
			"nxbackup is interactive and is not used.",
		},
	}
	for _, d := range groupmaxDirs {
		p.Paths = append(p.Paths, base+"/"+d)
	}
	// An in_place restore writes the directories back under stopped
	// servers, as the manual's restore does ("stop everything ... start"),
	// with the backup's own stop and start.
	p.Restore.Stop = append([]string(nil), p.Stop...)
	p.Restore.Start = append([]string(nil), p.Start...)
	return p, base, nil
}

func groupmaxMaster(labels map[string]string) (Preset, error) {
	p, _, err := groupmaxCommon(GroupmaxMaster, labels)
	if err != nil {
		return Preset{}, err
	}
	p.Title = "Groupmax master management server"
	journal, err := absLabel(GroupmaxMaster, labels, LabelMngJournal, "")
	if err != nil {
		return Preset{}, err
	}
	if journal != "" {
		// The journal must go once the backup is taken, or data repair
		// after a restore becomes impossible.
		p.AfterSuccess = []string{"rm -f -- " + q(journal+"/MCH_JOURNAL") + "/*"}
	} else {
		p.Notes = append(p.Notes, "When the master collects a journal, set labels.mng_journal to the MNG_JOURNAL directory: <MNG_JOURNAL>/MCH_JOURNAL/* is then cleared after each backup.")
	}
	p.Notes = append(p.Notes, "Keep the master management server's backup newer than the other servers' backups.")
	return p, nil
}

func groupmaxServer(labels map[string]string) (Preset, error) {
	p, base, err := groupmaxCommon(GroupmaxServer, labels)
	if err != nil {
		return Preset{}, err
	}
	p.Title = "Groupmax address/mail server (multi-server)"
	p.RequiredLabels = []string{LabelMasterHost}
	// The journal files on the master carry this server's Groupmax host
	// name; by default the name the server reports itself.
	host := `"${BACKUP_SOURCE_HOSTNAME:?}"`
	if v := labels[LabelGroupmaxHost]; v != "" {
		if v == "." || v == ".." || strings.ContainsAny(v, "/*?[ \t") {
			return Preset{}, &LabelError{Preset: GroupmaxServer, Label: LabelGroupmaxHost, Reason: "must be a plain host name"}
		}
		host = q(v)
	}
	// First: replication to this server must be complete.
	p.Stop = append([]string{q(base+"/bin/nxsrepstat") + " -h " + host + " -s 1"}, p.Stop...)
	if m := labels[LabelMasterHost]; m != "" {
		p.AfterSuccess = []string{OnHost(m, "rm -f -- "+q(base+"/nxsdir/journal")+"/"+host+"*")}
	}
	return p, nil
}

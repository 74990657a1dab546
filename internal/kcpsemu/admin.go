package kcpsemu

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
)

// serveAdmin answers the unsigned /_emu/ endpoints (Config.Admin):
//
//	GET  /_emu/state                 VMs, volumes, snapshots
//	GET  /_emu/calls                 per-command counters
//	POST /_emu/snapshots/delete?id=  delete a snapshot out of band
//	POST /_emu/vms/start?id=         start a VM out of band
//	POST /_emu/vms/stop?id=          stop a VM out of band
//	POST /_emu/faults                set random faults (JSON Faults)
func (e *Emulator) serveAdmin(w http.ResponseWriter, r *http.Request) {
	reply := func(v any, err error) {
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
			return
		}
		_ = json.NewEncoder(w).Encode(v)
	}
	post := r.Method == http.MethodPost
	switch {
	case r.URL.Path == "/_emu/state":
		reply(map[string]any{"vms": e.VMs(), "volumes": e.Volumes(), "snapshots": e.Snapshots("")}, nil)
	case r.URL.Path == "/_emu/calls":
		reply(e.CallCounts(), nil)
	case post && r.URL.Path == "/_emu/snapshots/delete":
		reply(map[string]bool{"ok": true}, e.DeleteSnapshot(r.URL.Query().Get("id")))
	case post && r.URL.Path == "/_emu/vms/start":
		reply(map[string]bool{"ok": true}, e.StartVM(r.URL.Query().Get("id")))
	case post && r.URL.Path == "/_emu/vms/stop":
		reply(map[string]bool{"ok": true}, e.StopVM(r.URL.Query().Get("id")))
	case post && r.URL.Path == "/_emu/faults":
		var f Faults
		err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&f)
		if err == nil {
			e.SetFaults(f)
		}
		reply(map[string]bool{"ok": err == nil}, err)
	default:
		http.NotFound(w, r)
	}
}

func quietLog() *log.Logger { return log.New(io.Discard, "", 0) }

package kcps

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestTolerantDecoding(t *testing.T) {
	var vm wireVM
	in := `{"id":"v1","name":"web01","state":"Running","cpunumber":"2","cpuspeed":"2000","memory":4096,"created":1700000000123}`
	if err := json.Unmarshal([]byte(in), &vm); err != nil {
		t.Fatal(err)
	}
	v := vm.value()
	if v.CPUNumber != 2 || v.CPUSpeed != 2000 || v.Memory != 4096 {
		t.Fatalf("numbers: %+v", v)
	}
	if !v.Created.Equal(time.UnixMilli(1700000000123)) {
		t.Fatalf("epoch ms: %v", v.Created)
	}

	var s wireSnapshot
	in = `{"id":"s1","created":"2024-03-01T10:00:00+0900","intervaltype":"MANUAL","state":"BackedUp"}`
	if err := json.Unmarshal([]byte(in), &s); err != nil {
		t.Fatal(err)
	}
	if got := s.value().Created.UTC(); !got.Equal(time.Date(2024, 3, 1, 1, 0, 0, 0, time.UTC)) {
		t.Fatalf("cloudstack time: %v", got)
	}

	for raw, want := range map[string]string{`0`: "HOURLY", `1`: "DAILY", `"2"`: "WEEKLY", `3`: "MONTHLY", `"daily"`: "DAILY", `"MANUAL"`: "MANUAL"} {
		var p wirePolicy
		if err := json.Unmarshal([]byte(`{"intervaltype":`+raw+`,"maxsnaps":"8"}`), &p); err != nil {
			t.Fatal(err)
		}
		if p.value().IntervalType != want || p.value().MaxSnaps != 8 {
			t.Errorf("intervaltype %s -> %+v, want %s", raw, p.value(), want)
		}
	}

	var bad wireVM
	if err := json.Unmarshal([]byte(`{"cpunumber":"two"}`), &bad); err == nil {
		t.Fatal("a non-numeric cpunumber must be an error")
	}
	var empty wireVolume
	if err := json.Unmarshal([]byte(`{"size":"","created":null}`), &empty); err != nil || empty.value().Size != 0 {
		t.Fatalf("empty values: %v %+v", err, empty)
	}
}

func TestUnwrapAndEmptyList(t *testing.T) {
	raw, err := unwrap([]byte(`{"listsnapshotsresponse":{}}`), "listsnapshotsresponse")
	if err != nil || string(raw) != "{}" {
		t.Fatalf("%s %v", raw, err)
	}
	if _, err := unwrap([]byte(`<html>`), "x"); err == nil {
		t.Fatal("HTML must not decode")
	}
}

func TestDecodeError(t *testing.T) {
	body := `{"createsnapshotresponse":{"uuidList":[],"errorcode":431,"cserrorcode":"4350","errortext":"Unable to find volume with specified volumeid=x"}}`
	e := decodeError("createSnapshot", 431, []byte(body))
	if e.ErrorCode != 431 || e.CSErrorCode != 4350 || e.ErrorText != "Unable to find volume with specified volumeid=x" {
		t.Fatalf("%+v", e)
	}
	if !IsNotFound(e) || e.Transient() {
		t.Fatalf("431 not found: notfound=%v transient=%v", IsNotFound(e), e.Transient())
	}
	if got := e.Error(); got != "kcps createSnapshot: error 431 (cs 4350): Unable to find volume with specified volumeid=x" {
		t.Fatalf("message: %s", got)
	}
	html := decodeError("listVolumes", 503, []byte("<html>503 Service Unavailable</html>"))
	if html.ErrorCode != 503 || !html.Transient() {
		t.Fatalf("%+v", html)
	}
	lim := decodeError("listVolumes", 429, []byte(`{"listvolumesresponse":{"errorcode":429,"errortext":"limit"}}`))
	if !lim.Transient() {
		t.Fatal("429 must be transient")
	}
	var ae *APIError
	if !errors.As(error(e), &ae) {
		t.Fatal("errors.As")
	}
}

func TestParseSchedule(t *testing.T) {
	for _, c := range []struct {
		interval, sched string
		want            Schedule
	}{
		{"1", "05:3", Schedule{"DAILY", 5, 3, 0}},
		{"HOURLY", "5", Schedule{"HOURLY", 5, 0, 0}},
		{"weekly", "0:23:07", Schedule{"WEEKLY", 0, 23, 7}},
		{"3", "30:02:31", Schedule{"MONTHLY", 30, 2, 31}},
	} {
		got, err := ParseSchedule(c.interval, c.sched)
		if err != nil || got != c.want {
			t.Errorf("ParseSchedule(%q,%q) = %+v, %v; want %+v", c.interval, c.sched, got, err, c.want)
		}
	}
	if _, err := ParseSchedule("WEEKLY", "5:3"); err == nil {
		t.Error("weekly without day must fail")
	}
	for _, bad := range []Schedule{{"WEEKLY", 0, 1, 8}, {"WEEKLY", 0, 1, 0}, {"MONTHLY", 0, 1, 32}, {"DAILY", 60, 1, 0}, {"DAILY", 0, 24, 0}, {"YEARLY", 0, 0, 0}} {
		if bad.Validate() == nil {
			t.Errorf("%+v must be invalid", bad)
		}
	}
	if (Schedule{"WEEKLY", 5, 3, 1}).String() != "05:03:01" || (Schedule{"HOURLY", 5, 0, 0}).String() != "05" {
		t.Error("String")
	}
}

package kcps

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a snapshot policy's timing, as numbers. KCPS takes it as a
// string whose shape depends on the interval: HOURLY "MM", DAILY "MM:HH",
// WEEKLY "MM:HH:DD" (DD 1-7, Sunday to Saturday), MONTHLY "MM:HH:DD" (1-31).
type Schedule struct {
	Interval string // HOURLY, DAILY, WEEKLY, MONTHLY
	Minute   int
	Hour     int
	Day      int
}

// MaxSnapsLimit is the most generations KCPS keeps for a volume.
const MaxSnapsLimit = 8

// Validate reports what KCPS would refuse, or, worse, silently turn into a
// DAILY policy (an out-of-range or missing day of a weekly or monthly
// schedule).
func (s Schedule) Validate() error {
	switch s.Interval {
	case "HOURLY", "DAILY", "WEEKLY", "MONTHLY":
	default:
		return fmt.Errorf("interval %q: must be hourly, daily, weekly or monthly", strings.ToLower(s.Interval))
	}
	if s.Minute < 0 || s.Minute > 59 {
		return fmt.Errorf("minute %d: must be 0..59", s.Minute)
	}
	if s.Interval != "HOURLY" && (s.Hour < 0 || s.Hour > 23) {
		return fmt.Errorf("hour %d: must be 0..23", s.Hour)
	}
	switch s.Interval {
	case "WEEKLY":
		if s.Day < 1 || s.Day > 7 {
			return fmt.Errorf("day %d: a weekly schedule needs a day 1..7 (1 = Sunday .. 7 = Saturday); KCPS would silently make it a daily schedule", s.Day)
		}
	case "MONTHLY":
		if s.Day < 1 || s.Day > 31 {
			return fmt.Errorf("day %d: a monthly schedule needs a day of month 1..31; KCPS would silently make it a daily schedule", s.Day)
		}
	}
	return nil
}

// String renders the schedule in KCPS's format, two digits per field.
func (s Schedule) String() string {
	switch s.Interval {
	case "HOURLY":
		return fmt.Sprintf("%02d", s.Minute)
	case "DAILY":
		return fmt.Sprintf("%02d:%02d", s.Minute, s.Hour)
	default:
		return fmt.Sprintf("%02d:%02d:%02d", s.Minute, s.Hour, s.Day)
	}
}

// Normalized zeroes the fields the interval does not use.
func (s Schedule) Normalized() Schedule {
	s.Interval = NormalizeIntervalType(s.Interval)
	switch s.Interval {
	case "HOURLY":
		s.Hour, s.Day = 0, 0
	case "DAILY":
		s.Day = 0
	}
	return s
}

// ParseSchedule reads a policy's interval (name or number) and schedule
// string ("5", "05:03", "0:3:07"...).
func ParseSchedule(interval, schedule string) (Schedule, error) {
	s := Schedule{Interval: NormalizeIntervalType(interval)}
	parts := strings.Split(strings.TrimSpace(schedule), ":")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return s, fmt.Errorf("schedule %q: %q is not a number", schedule, p)
		}
		nums[i] = n
	}
	want := map[string]int{"HOURLY": 1, "DAILY": 2, "WEEKLY": 3, "MONTHLY": 3}[s.Interval]
	if want == 0 {
		return s, fmt.Errorf("interval %q is unknown", interval)
	}
	if len(nums) < want {
		return s, fmt.Errorf("schedule %q: a %s schedule has %d fields", schedule, strings.ToLower(s.Interval), want)
	}
	s.Minute = nums[0]
	if want >= 2 {
		s.Hour = nums[1]
	}
	if want == 3 {
		s.Day = nums[2]
	}
	return s, nil
}

// javaShortZones are the three-letter ids Java's TimeZone (and so
// CloudStack) accepts, with the IANA zone they stand for.
var javaShortZones = map[string]string{
	"JST": "Asia/Tokyo", "UTC": "UTC", "GMT": "UTC", "EST": "America/New_York", "MST": "America/Denver",
	"HST": "Pacific/Honolulu", "PST": "America/Los_Angeles", "CST": "America/Chicago", "IST": "Asia/Kolkata",
	"CTT": "Asia/Shanghai", "AET": "Australia/Sydney", "BST": "Asia/Dhaka",
}

// ValidTimezone accepts an IANA zone name or a Java short id (JST).
func ValidTimezone(tz string) bool {
	if _, ok := javaShortZones[tz]; ok {
		return true
	}
	if tz == "" || strings.EqualFold(tz, "local") {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}

// SameTimezone reports whether two zone names mean the same zone (JST and
// Asia/Tokyo do).
func SameTimezone(a, b string) bool {
	canon := func(s string) string {
		if z, ok := javaShortZones[strings.ToUpper(s)]; ok {
			return z
		}
		return s
	}
	return strings.EqualFold(canon(a), canon(b))
}

package apps

// Settings are the values of a policy that a preset may supply. In a
// policy's own Settings a nil slice means "not set: take the preset's"; an
// empty, non-nil slice means "set to nothing".
type Settings struct {
	Paths        []string
	Exclude      []string
	Stop         []string
	Start        []string
	Export       []string
	AfterSuccess []string
}

// Effective overlays own on p (p may be nil: no preset). Every field of
// the result is non-nil.
func Effective(p *Preset, own Settings) Settings {
	var base Settings
	if p != nil {
		base = Settings{p.Paths, p.Exclude, p.Stop, p.Start, p.Export, p.AfterSuccess}
	}
	pick := func(mine, def []string) []string {
		if mine != nil {
			return append([]string{}, mine...)
		}
		return append([]string{}, def...)
	}
	return Settings{
		Paths:        pick(own.Paths, base.Paths),
		Exclude:      pick(own.Exclude, base.Exclude),
		Stop:         pick(own.Stop, base.Stop),
		Start:        pick(own.Start, base.Start),
		Export:       pick(own.Export, base.Export),
		AfterSuccess: pick(own.AfterSuccess, base.AfterSuccess),
	}
}

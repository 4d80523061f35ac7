package core

// Phase names the per-iteration hook phases.
type Phase int

// The hook phases, in the order an iteration runs them relative to polling:
// idle and prepare before it, check after it.
const (
	PhaseIdle Phase = iota
	PhasePrepare
	PhaseCheck
)

// Hook is a callback run once per loop iteration in one phase; the Idle,
// Prepare and Check handles embed one. Its zero value is stopped.
type Hook struct {
	fn func()
	on bool
}

// IsActive reports whether the hook is started.
func (k *Hook) IsActive() bool { return k.on }

// StartHook runs fn once per iteration in the given phase, after the hooks
// started before it. Starting a started hook replaces its function.
func (l *Loop) StartHook(k *Hook, phase Phase, fn func()) {
	k.fn = fn
	if k.on {
		return
	}
	k.on = true
	l.hooks[phase] = append(l.hooks[phase], k)
}

// StopHook stops k; a hook stopped during its phase does not run afterwards
// in that phase.
func (l *Loop) StopHook(k *Hook, phase Phase) {
	if !k.on {
		return
	}
	k.on = false
	hs := l.hooks[phase]
	for i, h := range hs {
		if h == k {
			copy(hs[i:], hs[i+1:])
			hs[len(hs)-1] = nil
			l.hooks[phase] = hs[:len(hs)-1]
			return
		}
	}
}

func (l *Loop) runHooks(phase Phase) {
	hs := l.hooks[phase]
	if len(hs) == 0 {
		return
	}
	snap := append(l.scratch[:0], hs...)
	for i, k := range snap {
		snap[i] = nil
		if k.on {
			k.fn()
			l.drainTicks()
		}
	}
	l.scratch = snap[:0]
}

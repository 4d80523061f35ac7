//go:build netloopdebug

package emitter

import (
	"fmt"
	"reflect"
)

// debug turns on the listener type checks of netloopdebug builds.
const debug = true

// typeCheck remembers each listener's func type by id.
type typeCheck struct{ types map[uint32]reflect.Type }

func (s *Set) recordType(id uint32, fn any) {
	t := reflect.TypeOf(fn)
	if t == nil || t.Kind() != reflect.Func {
		panic(fmt.Sprintf("emitter: listener %d is a %v, not a func", id, t))
	}
	if s.tc.types == nil {
		s.tc.types = make(map[uint32]reflect.Type)
	}
	s.tc.types[id] = t
}

func (s *Set) checkType(id uint32, want reflect.Type) {
	if got := s.tc.types[id]; got != want {
		panic(fmt.Sprintf("emitter: listener %d was added as a %v and emitted as a %v", id, got, want))
	}
}

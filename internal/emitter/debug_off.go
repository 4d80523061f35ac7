//go:build !netloopdebug

package emitter

import "reflect"

// debug turns on the listener type checks of netloopdebug builds.
const debug = false

type typeCheck struct{}

func (s *Set) recordType(id uint32, fn any) {}

func (s *Set) checkType(id uint32, want reflect.Type) {}

package transport

// Mode selects what Chmod grants to everyone.
type Mode uint8

const (
	// Readable lets every user read (connect to) the socket.
	Readable Mode = 1 << iota
	// Writable lets every user write (connect to) the socket.
	Writable
)

// IsAbstract reports whether name is a Linux abstract-namespace name.
func IsAbstract(name string) bool {
	return len(name) > 0 && (name[0] == 0 || name[0] == '@')
}

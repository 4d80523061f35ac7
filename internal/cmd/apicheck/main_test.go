package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// writeTree creates a module in a temporary directory holding files (path
// relative to the module root → content) and returns its root.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files["go.mod"] = "module example.com/m\n\ngo 1.26\n"
	for name, content := range files {
		writeFile(t, root, name, content)
	}
	return root
}

func writeFile(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
}

// apicheck runs the command with -root root and returns its exit status and
// everything it printed.
func apicheck(t *testing.T, root string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := run(append([]string{"-root", root}, args...), &out, &out)
	return code, out.String()
}

// features returns the snapshot lines of the package in dir (relative to
// root).
func features(t *testing.T, root, dir string) []string {
	t.Helper()
	pkgs, err := loadPackages(root, []string{dir})
	require.NoError(t, err)
	require.Len(t, pkgs, 1)
	return pkgs[0].feats
}

const kindsSrc = `package kinds

import (
	"errors"
	"io"
	"time"
)

func F(a, b int, s ...string) (n int, err error) { return 0, nil }

func G(cb func(x int, y []byte) (ok bool), ch <-chan struct{}) {}

func Map[K comparable, V any](m map[K]V, f func(k K) V) []V { return nil }

type T struct {
	A, B int
	C    func(n int) error
	io.Reader
	*Base
	inner
	hidden int
	D      struct {
		X int
		y string
	}
	E string ` + "`json:\"e\"`" + `
}

type Base struct{}

func (t T) Value() int                  { return 0 }
func (t *T) Ptr(v any, d time.Duration) {}
func (b *Base) M()                      {}

type Set[E comparable] struct{ Items map[E]struct{} }

func (s *Set[E]) Add(v E) bool { return true }
func (s Set[X]) Len() int      { return 0 }

type Pair[K comparable, V any] struct {
	Key K
	Val V
}

func (p *Pair[K, V]) Get() (K, V) { return p.Key, p.Val }

type Reader interface {
	Read(p []byte) (n int, err error)
	io.Closer
	private()
}

type Empty interface{}

type Number interface{ ~int | ~float64 }

type Alias = Base

type GAlias[T any] = Set[T]

type Celsius float64

type Handler func(w io.Writer, code int)

type Mode uint8

const (
	ModeA Mode = iota
	ModeB
	ModeC
)

const (
	KB = 1 << (10 * (iota + 1))
	MB
)

const Name = "kinds"

const Pi = 3.5

const Timeout = 5 * time.Second

const Flag = Mode(4)

const Derived = ModeC + 1

var ErrX = errors.New("x")

var Default = &T{}

var Count int

var V2 = T{}

var Made = NewT()

func NewT() *T { return nil }

var Other = io.EOF

var FromCall = time.Now()
`

// unexportedSrc is added to package kinds: nothing in it is API.
const unexportedSrc = `package kinds

func unexportedFunc() {}

type inner struct{ Z int }

func (i inner) Exported()      {}
func (i *inner) AlsoExported() {}
func (t *T) unexported()       {}

type hiddenIface interface{ Method() }

const private = 1

const (
	lower = iota
	Upper // exported although its group starts unexported
)

var unexp, Exp = 1, "x"

var _ = F
`

// testSrc is a _test.go file of package kinds: nothing in it is API.
const testSrc = `package kinds

func TestHelper() {}

type Fixture struct{ A int }

func (t *T) ForTests() {}
`

// externalTestSrc is an external test package, which must not make the
// directory look like two packages.
const externalTestSrc = `package kinds_test

func Example() {}
`

func kindsTree(t *testing.T) string {
	return writeTree(t, map[string]string{
		"kinds/kinds.go":      kindsSrc,
		"kinds/unexported.go": unexportedSrc,
		"kinds/kinds_test.go": testSrc,
		"kinds/x_test.go":     externalTestSrc,
	})
}

func TestEveryKindOfDeclarationIsListed(t *testing.T) {
	root := kindsTree(t)
	want := []string{
		"pkg kinds, const Derived = 3",
		"pkg kinds, const Derived Mode",
		"pkg kinds, const Flag = 4",
		"pkg kinds, const Flag Mode",
		"pkg kinds, const KB = 1024",
		"pkg kinds, const MB = 1048576",
		"pkg kinds, const ModeA = 0",
		"pkg kinds, const ModeA Mode",
		"pkg kinds, const ModeB = 1",
		"pkg kinds, const ModeB Mode",
		"pkg kinds, const ModeC = 2",
		"pkg kinds, const ModeC Mode",
		`pkg kinds, const Name = "kinds"`,
		"pkg kinds, const Pi = 3.5",
		"pkg kinds, const Timeout = 5 * time.Second",
		"pkg kinds, const Upper = 1",
		"pkg kinds, func F(int, int, ...string) (int, error)",
		"pkg kinds, func G(func(int, []byte) bool, <-chan struct{})",
		"pkg kinds, func Map[$0 comparable, $1 any](map[$0]$1, func($0) $1) []$1",
		"pkg kinds, func NewT() *T",
		"pkg kinds, method (*Base) M()",
		"pkg kinds, method (*Pair[$0, $1]) Get() ($0, $1)",
		"pkg kinds, method (*Set[$0]) Add($0) bool",
		"pkg kinds, method (*T) Ptr(any, time.Duration)",
		"pkg kinds, method (Set[$0]) Len() int",
		"pkg kinds, method (T) Value() int",
		"pkg kinds, type Alias = Base",
		"pkg kinds, type Base struct",
		"pkg kinds, type Celsius float64",
		"pkg kinds, type Empty interface {}",
		"pkg kinds, type GAlias[$0 any] = Set[$0]",
		"pkg kinds, type Handler func(io.Writer, int)",
		"pkg kinds, type Mode uint8",
		"pkg kinds, type Number interface { ~int | ~float64 }",
		"pkg kinds, type Number interface, embedded ~int | ~float64",
		"pkg kinds, type Pair[$0 comparable, $1 any] struct",
		"pkg kinds, type Pair[$0 comparable, $1 any] struct, Key $0",
		"pkg kinds, type Pair[$0 comparable, $1 any] struct, Val $1",
		"pkg kinds, type Reader interface { Read, io.Closer, unexported methods }",
		"pkg kinds, type Reader interface, Read([]byte) (int, error)",
		"pkg kinds, type Reader interface, embedded io.Closer",
		"pkg kinds, type Set[$0 comparable] struct",
		"pkg kinds, type Set[$0 comparable] struct, Items map[$0]struct{}",
		"pkg kinds, type T struct",
		"pkg kinds, type T struct, A int",
		"pkg kinds, type T struct, B int",
		"pkg kinds, type T struct, C func(int) error",
		"pkg kinds, type T struct, D struct { X int; y string }",
		"pkg kinds, type T struct, E string",
		"pkg kinds, type T struct, embedded *Base",
		"pkg kinds, type T struct, embedded io.Reader",
		"pkg kinds, var Count int",
		"pkg kinds, var Default *T",
		"pkg kinds, var ErrX error",
		`pkg kinds, var Exp string`,
		"pkg kinds, var FromCall",
		"pkg kinds, var Made *T",
		"pkg kinds, var Other = io.EOF",
		"pkg kinds, var V2 T",
	}
	require.Equal(t, want, features(t, root, "./kinds"))
}

func TestUnexportedAndTestDeclarationsAreNotListed(t *testing.T) {
	root := kindsTree(t)
	all := strings.Join(features(t, root, "kinds"), "\n")
	for _, name := range []string{
		"unexportedFunc", "inner", "Exported", "AlsoExported", "unexported(",
		"hiddenIface", "Method", "private", "lower", "var unexp", "hidden",
		"TestHelper", "Fixture", "ForTests", "Example", "kinds_test", "_ =",
	} {
		require.NotContains(t, all, name)
	}
}

func TestFilesOfEveryBuildContextAreIncluded(t *testing.T) {
	root := writeTree(t, map[string]string{
		"p/p.go": "package p\n\nfunc Common() {}\n",
		"p/fd_unix.go": "//go:build !windows\n\npackage p\n\n" +
			"func Fd() int { return 0 }\n\nfunc Shared(b []byte) error { return nil }\n",
		"p/fd_windows.go": "package p\n\nimport \"syscall\"\n\n" +
			"func Fd() syscall.Handle { return 0 }\n\nfunc Shared(p []byte) (err error) { return nil }\n",
		"p/linux_only.go":  "//go:build linux && netloopdebug\n\npackage p\n\nconst Debug = true\n",
		"p/plan9_arm64.go": "package p\n\ntype Plan9 struct{ X int }\n",
		"p/gen.go":         "//go:build ignore\n\npackage main\n\nfunc Generator() {}\n",
		"p/_scratch.go":    "package p\n\nfunc Scratch() {}\n",
	})
	require.Equal(t, []string{
		"pkg p, const Debug = true",
		"pkg p, func Common()",
		"pkg p, func Fd() int",
		"pkg p, func Fd() syscall.Handle",
		"pkg p, func Shared([]byte) error", // once, though declared twice
		"pkg p, type Plan9 struct",
		"pkg p, type Plan9 struct, X int",
	}, features(t, root, "p"))
}

func TestTwoPackagesInOneDirectoryIsAnError(t *testing.T) {
	root := writeTree(t, map[string]string{
		"p/a.go": "package p\n",
		"p/b.go": "//go:build tools\n\npackage q\n",
	})
	code, out := apicheck(t, root, "-write", "./p")
	require.Equal(t, 1, code)
	require.Contains(t, out, "files of two packages")
}

func TestNamesOfPackagesAndSnapshotFiles(t *testing.T) {
	root := writeTree(t, map[string]string{
		"root.go":          "package netloop\n\nfunc Run() error { return nil }\n",
		"sub/deep/deep.go": "package deep\n\nvar X int\n",
	})
	code, out := apicheck(t, root, "-write", "-dir", "api", ".", "./sub/deep/")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "api: wrote 2 packages, 2 features to api")
	data, err := os.ReadFile(filepath.Join(root, "api", "netloop.txt"))
	require.NoError(t, err)
	require.Equal(t, "pkg netloop, func Run() error\n", string(data))
	data, err = os.ReadFile(filepath.Join(root, "api", "sub_deep.txt"))
	require.NoError(t, err)
	require.Equal(t, "pkg sub/deep, var X int\n", string(data))
}

const snapSrc = `package a

// Old is removed by the tests.
func Old() {}

// Keep stays.
type Keep struct{ N int }
`

// snapTree is a module with packages a and b whose snapshots are written.
func snapTree(t *testing.T) string {
	root := writeTree(t, map[string]string{
		"a/a.go": snapSrc,
		"b/b.go": "package b\n\nconst B = 2\n",
	})
	code, out := apicheck(t, root, "-write", "./a", "./b")
	require.Equal(t, 0, code, out)
	return root
}

func TestUnchangedTreePasses(t *testing.T) {
	root := snapTree(t)
	code, out := apicheck(t, root, "./a", "./b")
	require.Equal(t, 0, code, out)
	require.Equal(t, "api: ok (2 packages, 4 features)\n", out)
}

func TestAddedIdentifierFails(t *testing.T) {
	root := snapTree(t)
	writeFile(t, root, "a/new.go", "package a\n\nfunc New(n int) *Keep { return nil }\n")
	code, out := apicheck(t, root, "./a", "./b")
	require.Equal(t, 1, code, out)
	require.Equal(t, "api: package ./a differs from api/a.txt:\n"+
		"+ added: pkg a, func New(int) *Keep\n"+
		updateHint+"\n", out)
}

func TestRemovedIdentifierFails(t *testing.T) {
	root := snapTree(t)
	writeFile(t, root, "a/a.go", strings.Replace(snapSrc, "func Old() {}", "func old() {}", 1))
	code, out := apicheck(t, root, "./a", "./b")
	require.Equal(t, 1, code, out)
	require.Equal(t, "api: package ./a differs from api/a.txt:\n"+
		"- removed: pkg a, func Old()\n"+
		updateHint+"\n", out)
}

func TestChangedDeclarationFails(t *testing.T) {
	root := snapTree(t)
	writeFile(t, root, "a/a.go", strings.Replace(snapSrc, "N int", "N int64", 1))
	writeFile(t, root, "b/b.go", "package b\n\nconst B = 3\n")
	code, out := apicheck(t, root, "./a", "./b")
	require.Equal(t, 1, code, out)
	require.Equal(t, "api: package ./a differs from api/a.txt:\n"+
		"- removed: pkg a, type Keep struct, N int\n"+
		"+ added: pkg a, type Keep struct, N int64\n"+
		"api: package ./b differs from api/b.txt:\n"+
		"- removed: pkg b, const B = 2\n"+
		"+ added: pkg b, const B = 3\n"+
		updateHint+"\n", out)

	// After the update the check passes again.
	code, out = apicheck(t, root, "-write", "./a", "./b")
	require.Equal(t, 0, code, out)
	code, out = apicheck(t, root, "./a", "./b")
	require.Equal(t, 0, code, out)
}

func TestPackageWithoutSnapshotFails(t *testing.T) {
	root := snapTree(t)
	writeFile(t, root, "c/c.go", "package c\n\nfunc C() {}\n")
	code, out := apicheck(t, root, "./a", "./b", "./c")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "api: package ./c has no snapshot api/c.txt\n")
	require.Contains(t, out, updateHint)
}

func TestSnapshotWithoutPackageFails(t *testing.T) {
	root := snapTree(t)
	code, out := apicheck(t, root, "./a")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "api: snapshot api/b.txt belongs to no package given")
	require.Contains(t, out, updateHint)

	// -write removes the stale snapshot, after which the check passes.
	code, out = apicheck(t, root, "-write", "./a")
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "api: removed api/b.txt")
	require.NoFileExists(t, filepath.Join(root, "api", "b.txt"))
	code, out = apicheck(t, root, "./a")
	require.Equal(t, 0, code, out)
	require.Equal(t, "api: ok (1 packages, 3 features)\n", out)
}

func TestErrors(t *testing.T) {
	root := writeTree(t, map[string]string{
		"bad/bad.go": "package bad\n\nfunc (\n",
		"empty/x.md": "no Go here\n",
	})
	code, _ := apicheck(t, root)
	require.Equal(t, 2, code, "no package is a usage error")
	code, out := apicheck(t, root, "./bad")
	require.Equal(t, 1, code)
	require.Contains(t, out, "bad.go")
	code, out = apicheck(t, root, "./empty")
	require.Equal(t, 1, code)
	require.Contains(t, out, "no non-test Go files")
	code, out = apicheck(t, root, "./missing")
	require.Equal(t, 1, code)
	require.Contains(t, out, "missing")
	code, out = apicheck(t, root, "..")
	require.Equal(t, 1, code)
	require.Contains(t, out, "not inside the module root")
}

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"struct {\n}":                                            "struct{}",
		"struct {\n\tA\tint\n\tB  string\n}":                     "struct { A int; B string }",
		"interface {\n\tM() (a  int)\n}":                         "interface { M() (a int) }",
		"struct {\n\tA struct {\n\t\tB int\n\t}\n\tC int\n}":     "struct { A struct { B int }; C int }",
		"struct {\n\tT string \"a  \\\"  b\"\n\tU int `x  y`\n}": "struct { T string \"a  \\\"  b\"; U int `x  y` }",
	} {
		require.Equal(t, want, oneLine(in), "input %q", in)
	}
}

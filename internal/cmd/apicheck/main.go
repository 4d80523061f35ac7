// Command apicheck is netloop's public-API snapshot gate, in the spirit of
// the api/go1.*.txt files of the Go distribution: it lists every exported
// declaration of the packages it is given, one "feature" per line, and
// compares that list with a committed snapshot, so that the exported surface
// changes only on purpose.
//
// Usage (from the module root):
//
//	go run ./internal/cmd/apicheck [-write] [-dir api] [-root DIR] PKGDIR...
//
// PKGDIR is a package directory relative to the module root ("." for the
// root package, "./socket", ...). For each one every *.go file that does not
// end in _test.go is parsed, whatever its build constraints or GOOS/GOARCH
// suffix, so the snapshot is the union over all build contexts; identical
// lines are listed once and a declaration whose signature differs between
// platforms shows up once per variant. Files named _* or .*, and files
// whose constraint is exactly "//go:build ignore", are skipped as the go
// command does. Everything is read from the syntax tree alone (no type
// checking), so the tool works for any GOOS and needs nothing but the
// standard library.
//
// The lines look like this (sorted, deduplicated):
//
//	pkg loop, func Default() *Loop
//	pkg loop, method (*Loop) Run(RunMode) error
//	pkg loop, type Loop core.Loop
//	pkg loop, type RunMode = core.RunMode
//	pkg loop, var ErrClosed = core.ErrClosed
//	pkg poller, const MaxEvents = 1024
//	pkg poller, const Read Interest
//	pkg poller, const Read = 1
//	pkg poller, var ErrClosed error
//	pkg socket, type Options struct, AllowHalfOpen bool
//	pkg socket, type Options struct, embedded Base
//	pkg socket, type Writer interface { Write }
//	pkg socket, type Writer interface, Write([]byte) (int, error)
//	pkg netloop, type Socket = socket.Socket
//
// A package is named by its directory relative to the module root
// ("socket", "internal/core"); the root package by its package clause
// ("netloop"). Parameter and result names are dropped, grouped names are
// expanded (func(a, b int) is func(int, int)), type parameters are renamed
// $0, $1, ... in order of declaration, and composite types are printed on
// one line. Listed are exported functions; methods with an exported name on
// exported receiver types (pointer or value, generic or not; methods
// promoted through embedding are not listed); exported types with their
// kind (struct, interface, alias "= X", or defined "T underlying"); the
// exported fields of exported struct types, embedded ones as "embedded T";
// the methods and embedded elements of exported interfaces; exported
// constants, with their type when it is declared or evident (a conversion
// T(x), a typed constant it refers to, an implicit repetition in a const
// group) and their value when it can be computed from literals, iota and the
// package's own constants (otherwise the value expression is shown); and
// exported variables, with their declared type, or the type evident from the
// initializer (composite literal, conversion, call of a function of the
// package, errors.New, fmt.Errorf), or else the initializer when it is a
// plain name.
//
// With -write, the snapshot of each package is written to DIR/<name>.txt,
// where <name> is the package's name with "/" replaced by "_" ("netloop.txt",
// "socket.txt", "internal_core.txt"), and *.txt files in DIR that belong to
// no given package are removed. Without -write the current features are
// compared with DIR: every added or removed line is printed as
// "+ added: ..." or "- removed: ...", as is a package without a snapshot and
// a snapshot without a package, and the exit status is 1; when everything
// matches it prints "api: ok (N packages, M features)" and exits 0.
// Relative -dir and PKGDIR paths are taken from the module root, which
// defaults to the nearest directory above the working directory holding a
// go.mod.
//
// The Makefile wires it up as two targets over the public packages:
// "make api-check" (part of "make test") runs the comparison, and
// "make api-update" runs it with -write after an intended API change, so the
// regenerated api/*.txt files show the change in review.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"go/ast"
	"go/build/constraint"
	"go/constant"
	"go/parser"
	"go/printer"
	"go/token"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// updateHint is printed after every failed check.
const updateHint = "if the change is intended, run `make api-update`"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// pkgAPI is one package's snapshot.
type pkgAPI struct {
	arg   string   // the PKGDIR as given
	label string   // "socket", "internal/core"; the package clause for the root
	file  string   // snapshot file name: label with "/" → "_", plus ".txt"
	feats []string // sorted "pkg <label>, <feature>" lines
}

// run is main without the process: it returns the exit status (0 ok, 1 API
// mismatch or error, 2 usage).
func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("apicheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	write := fs.Bool("write", false, "write the snapshots instead of comparing with them")
	dir := fs.String("dir", "api", "directory of the snapshot files (relative to the module root)")
	rootFlag := fs.String("root", "", "module root (default: the nearest directory with a go.mod above the working directory)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: apicheck [-write] [-dir api] [-root DIR] PKGDIR...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	root, err := moduleRoot(*rootFlag)
	if err != nil {
		fmt.Fprintln(stderr, "apicheck:", err)
		return 1
	}
	pkgs, err := loadPackages(root, fs.Args())
	if err != nil {
		fmt.Fprintln(stderr, "apicheck:", err)
		return 1
	}
	snapDir := *dir
	if !filepath.IsAbs(snapDir) {
		snapDir = filepath.Join(root, snapDir)
	}
	if *write {
		if err := writeSnapshots(stdout, *dir, snapDir, pkgs); err != nil {
			fmt.Fprintln(stderr, "apicheck:", err)
			return 1
		}
		return 0
	}
	ok, err := checkSnapshots(stdout, *dir, snapDir, pkgs)
	if err != nil {
		fmt.Fprintln(stderr, "apicheck:", err)
		return 1
	}
	if !ok {
		return 1
	}
	return 0
}

// moduleRoot returns flagRoot made absolute, or the nearest directory at or
// above the working directory that holds a go.mod (the working directory if
// there is none).
func moduleRoot(flagRoot string) (string, error) {
	if flagRoot != "" {
		return filepath.Abs(flagRoot)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return wd, nil
		}
		d = parent
	}
}

// loadPackages extracts the features of every package directory in args.
func loadPackages(root string, args []string) ([]*pkgAPI, error) {
	var pkgs []*pkgAPI
	seenRel := map[string]bool{}
	byFile := map[string]string{}
	for _, arg := range args {
		abs := arg
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(root, abs)
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return nil, fmt.Errorf("%s: not inside the module root %s", arg, root)
		}
		rel = filepath.ToSlash(rel)
		if seenRel[rel] {
			continue
		}
		seenRel[rel] = true
		name, feats, err := extractDir(abs)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", arg, err)
		}
		label := rel
		if rel == "." {
			label = name
		}
		p := &pkgAPI{arg: arg, label: label, file: strings.ReplaceAll(label, "/", "_") + ".txt"}
		if other, dup := byFile[p.file]; dup {
			return nil, fmt.Errorf("packages %s and %s would share the snapshot file %s", other, arg, p.file)
		}
		byFile[p.file] = arg
		for _, f := range feats {
			p.feats = append(p.feats, "pkg "+label+", "+f)
		}
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool { return pkgs[i].file < pkgs[j].file })
	return pkgs, nil
}

// writeSnapshots writes one file per package into snapDir (shown to the
// user as shownDir) and removes *.txt files that belong to no package.
func writeSnapshots(out io.Writer, shownDir, snapDir string, pkgs []*pkgAPI) error {
	if err := os.MkdirAll(snapDir, 0o755); err != nil {
		return err
	}
	want := map[string]bool{}
	total := 0
	for _, p := range pkgs {
		want[p.file] = true
		total += len(p.feats)
		var b strings.Builder
		for _, f := range p.feats {
			b.WriteString(f)
			b.WriteByte('\n')
		}
		if err := os.WriteFile(filepath.Join(snapDir, p.file), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	existing, err := snapshotFiles(snapDir)
	if err != nil {
		return err
	}
	for _, f := range existing {
		if !want[f] {
			if err := os.Remove(filepath.Join(snapDir, f)); err != nil {
				return err
			}
			fmt.Fprintf(out, "api: removed %s (no such package given)\n", filepath.Join(shownDir, f))
		}
	}
	fmt.Fprintf(out, "api: wrote %d packages, %d features to %s\n", len(pkgs), total, shownDir)
	return nil
}

// snapshotFiles lists the *.txt files of dir (none if dir does not exist).
func snapshotFiles(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range ents {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".txt") {
			files = append(files, e.Name())
		}
	}
	sort.Strings(files)
	return files, nil
}

// checkSnapshots compares every package with its snapshot and reports the
// differences on out; it returns whether everything matched.
func checkSnapshots(out io.Writer, shownDir, snapDir string, pkgs []*pkgAPI) (bool, error) {
	existing, err := snapshotFiles(snapDir)
	if err != nil {
		return false, err
	}
	have := map[string]bool{}
	for _, f := range existing {
		have[f] = true
	}
	ok := true
	total := 0
	given := map[string]bool{}
	for _, p := range pkgs {
		given[p.file] = true
		total += len(p.feats)
		shown := filepath.Join(shownDir, p.file)
		if !have[p.file] {
			ok = false
			fmt.Fprintf(out, "api: package %s has no snapshot %s\n", p.arg, shown)
			continue
		}
		data, err := os.ReadFile(filepath.Join(snapDir, p.file))
		if err != nil {
			return false, err
		}
		diff := diffLines(readFeatures(data), p.feats)
		if len(diff) > 0 {
			ok = false
			fmt.Fprintf(out, "api: package %s differs from %s:\n", p.arg, shown)
			for _, d := range diff {
				fmt.Fprintln(out, d)
			}
		}
	}
	for _, f := range existing {
		if !given[f] {
			ok = false
			fmt.Fprintf(out, "api: snapshot %s belongs to no package given (package removed or renamed?)\n", filepath.Join(shownDir, f))
		}
	}
	if !ok {
		fmt.Fprintln(out, updateHint)
		return false, nil
	}
	fmt.Fprintf(out, "api: ok (%d packages, %d features)\n", len(pkgs), total)
	return true, nil
}

// readFeatures parses a snapshot file: one feature a line; blank lines and
// lines starting with # are ignored.
func readFeatures(data []byte) []string {
	set := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "#") {
			set[l] = true
		}
	}
	return sortedKeys(set)
}

// diffLines merges the sorted lists old and cur into "- removed: " and
// "+ added: " lines, in feature order (a changed signature shows as a
// removal followed by an addition).
func diffLines(old, cur []string) []string {
	var d []string
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(old) && old[i] < cur[j]):
			d = append(d, "- removed: "+old[i])
			i++
		case i == len(old) || cur[j] < old[i]:
			d = append(d, "+ added: "+cur[j])
			j++
		default:
			i++
			j++
		}
	}
	return d
}

func sortedKeys(set map[string]bool) []string {
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// extractDir parses the package in dir and returns its name and sorted
// features (without the "pkg X, " prefix).
func extractDir(dir string) (string, []string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	var names []string
	name := ""
	for _, e := range ents {
		fn := e.Name()
		if e.IsDir() || !strings.HasSuffix(fn, ".go") || strings.HasSuffix(fn, "_test.go") ||
			strings.HasPrefix(fn, "_") || strings.HasPrefix(fn, ".") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, fn), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return "", nil, err
		}
		if ignored(f) {
			continue
		}
		if name != "" && f.Name.Name != name {
			return "", nil, fmt.Errorf("files of two packages: %s (%s) and %s (%s)", name, names[0], f.Name.Name, fn)
		}
		name = f.Name.Name
		files = append(files, f)
		names = append(names, fn)
	}
	if len(files) == 0 {
		return "", nil, errors.New("no non-test Go files")
	}
	x := newExtractor(files)
	x.extract()
	return name, sortedKeys(x.feats), nil
}

// ignored reports whether f carries the constraint "//go:build ignore" (or
// "// +build ignore"): such files are not part of the package in any build.
func ignored(f *ast.File) bool {
	for _, g := range f.Comments {
		if g.Pos() >= f.Package {
			break
		}
		for _, c := range g.List {
			if !constraint.IsGoBuild(c.Text) && !constraint.IsPlusBuild(c.Text) {
				continue
			}
			if expr, err := constraint.Parse(c.Text); err == nil {
				if t, ok := expr.(*constraint.TagExpr); ok && t.Tag == "ignore" {
					return true
				}
			}
		}
	}
	return false
}

// extractor collects the features of one package.
type extractor struct {
	files  []*ast.File
	feats  map[string]bool
	types  map[string]bool            // every package-level type name
	funcs  map[string][]*ast.FuncDecl // package-level functions (no receiver)
	consts map[string][]*constDef     // package-level constants
	vars   map[string][]*varDef       // package-level variables
	memo   map[*constDef]*constResult // evaluated constants
	busy   map[*constDef]bool         // constants being evaluated (cycle guard)
	vmemo  map[*varDef]string         // inferred variable types
	vbusy  map[*varDef]bool           // variables being inferred
}

// constDef is one constant: its own or inherited (implicit repetition)
// type and value expression, and its iota.
type constDef struct {
	name string
	typ  ast.Expr // nil if untyped
	val  ast.Expr // nil only in invalid code
	iota int64
}

// constResult is a constant's evaluation: its value (nil if unknown) and
// its type as printed ("" if untyped or unknown).
type constResult struct {
	val constant.Value
	typ string
}

// varDef is one variable of a var spec.
type varDef struct {
	spec *ast.ValueSpec
	idx  int
}

func newExtractor(files []*ast.File) *extractor {
	x := &extractor{
		files:  files,
		feats:  map[string]bool{},
		types:  map[string]bool{},
		funcs:  map[string][]*ast.FuncDecl{},
		consts: map[string][]*constDef{},
		vars:   map[string][]*varDef{},
		memo:   map[*constDef]*constResult{},
		busy:   map[*constDef]bool{},
		vmemo:  map[*varDef]string{},
		vbusy:  map[*varDef]bool{},
	}
	for _, f := range files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil {
					x.funcs[d.Name.Name] = append(x.funcs[d.Name.Name], d)
				}
			case *ast.GenDecl:
				x.collect(d)
			}
		}
	}
	return x
}

// collect records the types, constants and variables of d.
func (x *extractor) collect(d *ast.GenDecl) {
	var typ, val []ast.Expr // of the last const spec with values
	for i, s := range d.Specs {
		switch s := s.(type) {
		case *ast.TypeSpec:
			x.types[s.Name.Name] = true
		case *ast.ValueSpec:
			if d.Tok == token.VAR {
				for j, n := range s.Names {
					x.vars[n.Name] = append(x.vars[n.Name], &varDef{spec: s, idx: j})
				}
				continue
			}
			if s.Type != nil || len(s.Values) > 0 {
				typ, val = []ast.Expr{s.Type}, s.Values
			}
			for j, n := range s.Names {
				c := &constDef{name: n.Name, iota: int64(i)}
				if len(typ) > 0 {
					c.typ = typ[0]
				}
				if j < len(val) {
					c.val = val[j]
				}
				x.consts[n.Name] = append(x.consts[n.Name], c)
			}
		}
	}
}

func (x *extractor) add(format string, args ...any) {
	x.feats[fmt.Sprintf(format, args...)] = true
}

// extract emits every feature of the package.
func (x *extractor) extract() {
	for _, f := range x.files {
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				x.funcDecl(d)
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						x.typeSpec(s)
					case *ast.ValueSpec:
						if d.Tok == token.VAR {
							x.varSpec(s)
						}
					}
				}
			}
		}
	}
	for name, defs := range x.consts {
		if !ast.IsExported(name) {
			continue
		}
		for _, c := range defs {
			x.constDef(c)
		}
	}
}

func (x *extractor) funcDecl(d *ast.FuncDecl) {
	if !d.Name.IsExported() {
		return
	}
	if d.Recv == nil {
		tps, tp := typeParams(d.Type.TypeParams, nil)
		x.add("func %s%s%s", d.Name.Name, tps, signature(d.Type, tp))
		return
	}
	if len(d.Recv.List) != 1 {
		return
	}
	recv, tp, ok := receiver(d.Recv.List[0].Type)
	if !ok {
		return
	}
	x.add("method (%s) %s%s", recv, d.Name.Name, signature(d.Type, tp))
}

// receiver formats a method's receiver type ("*T", "T[$0, $1]") and maps its
// type parameters to $0, $1...; ok is false unless the base type is exported.
func receiver(e ast.Expr) (string, map[string]string, bool) {
	star := ""
	e = unparen(e)
	if s, ok := e.(*ast.StarExpr); ok {
		star = "*"
		e = unparen(s.X)
	}
	var params []ast.Expr
	switch ix := e.(type) {
	case *ast.IndexExpr:
		e, params = ix.X, []ast.Expr{ix.Index}
	case *ast.IndexListExpr:
		e, params = ix.X, ix.Indices
	}
	id, ok := e.(*ast.Ident)
	if !ok || !id.IsExported() {
		return "", nil, false
	}
	if len(params) == 0 {
		return star + id.Name, nil, true
	}
	tp := map[string]string{}
	var ps []string
	for i, p := range params {
		r := "$" + strconv.Itoa(i)
		if pid, ok := p.(*ast.Ident); ok {
			tp[pid.Name] = r
		}
		ps = append(ps, r)
	}
	return star + id.Name + "[" + strings.Join(ps, ", ") + "]", tp, true
}

func unparen(e ast.Expr) ast.Expr {
	for {
		p, ok := e.(*ast.ParenExpr)
		if !ok {
			return e
		}
		e = p.X
	}
}

// typeParams renames the type parameters of list to $0, $1... (after those
// already in outer) and formats them as "[$0 any, $1 ~[]$0]".
func typeParams(list *ast.FieldList, outer map[string]string) (string, map[string]string) {
	if list == nil || len(list.List) == 0 {
		return "", outer
	}
	tp := map[string]string{}
	for k, v := range outer {
		tp[k] = v
	}
	n := len(outer)
	for _, f := range list.List {
		for _, id := range f.Names {
			tp[id.Name] = "$" + strconv.Itoa(n)
			n++
		}
	}
	var ps []string
	for _, f := range list.List {
		c := typeString(f.Type, tp)
		for _, id := range f.Names {
			ps = append(ps, tp[id.Name]+" "+c)
		}
	}
	return "[" + strings.Join(ps, ", ") + "]", tp
}

// signature formats ft without "func" and without names: "(int, []byte) error".
func signature(ft *ast.FuncType, tp map[string]string) string {
	n := normFunc(ft, tp)
	n.TypeParams = nil
	return strings.TrimPrefix(printNode(n), "func")
}

func (x *extractor) typeSpec(s *ast.TypeSpec) {
	if !s.Name.IsExported() {
		return
	}
	tps, tp := typeParams(s.TypeParams, nil)
	head := "type " + s.Name.Name + tps
	if s.Assign.IsValid() {
		x.add("%s = %s", head, typeString(s.Type, tp))
		return
	}
	switch t := s.Type.(type) {
	case *ast.StructType:
		head += " struct"
		x.add("%s", head)
		for _, f := range t.Fields.List {
			ft := typeString(f.Type, tp)
			if len(f.Names) == 0 {
				if embeddedExported(f.Type) {
					x.add("%s, embedded %s", head, ft)
				}
				continue
			}
			for _, id := range f.Names {
				if id.IsExported() {
					x.add("%s, %s %s", head, id.Name, ft)
				}
			}
		}
	case *ast.InterfaceType:
		head += " interface"
		var names, embedded []string
		unexported := false
		for _, f := range t.Methods.List {
			if len(f.Names) == 0 {
				e := typeString(f.Type, tp)
				embedded = append(embedded, e)
				x.add("%s, embedded %s", head, e)
				continue
			}
			for _, id := range f.Names {
				if !id.IsExported() {
					unexported = true
					continue
				}
				names = append(names, id.Name)
				sig := ""
				if ft, ok := f.Type.(*ast.FuncType); ok {
					sig = signature(ft, tp)
				}
				x.add("%s, %s%s", head, id.Name, sig)
			}
		}
		sort.Strings(names)
		sort.Strings(embedded)
		elems := append(names, embedded...)
		if unexported {
			elems = append(elems, "unexported methods")
		}
		if len(elems) == 0 {
			x.add("%s {}", head)
		} else {
			x.add("%s { %s }", head, strings.Join(elems, ", "))
		}
	default:
		x.add("%s %s", head, typeString(s.Type, tp))
	}
}

// embeddedExported reports whether an embedded field's type name is exported.
func embeddedExported(e ast.Expr) bool {
	e = unparen(e)
	if s, ok := e.(*ast.StarExpr); ok {
		e = unparen(s.X)
	}
	switch ix := e.(type) {
	case *ast.IndexExpr:
		e = ix.X
	case *ast.IndexListExpr:
		e = ix.X
	}
	switch e := e.(type) {
	case *ast.Ident:
		return e.IsExported()
	case *ast.SelectorExpr:
		return e.Sel.IsExported()
	}
	return false
}

func (x *extractor) varSpec(s *ast.ValueSpec) {
	for j, id := range s.Names {
		if !id.IsExported() {
			continue
		}
		v := &varDef{spec: s, idx: j}
		if t := x.varType(v); t != "" {
			x.add("var %s %s", id.Name, t)
			continue
		}
		if j < len(s.Values) && len(s.Values) == len(s.Names) {
			switch e := unparen(s.Values[j]).(type) {
			case *ast.Ident, *ast.SelectorExpr:
				x.add("var %s = %s", id.Name, typeString(e, nil))
				continue
			}
		}
		x.add("var %s", id.Name)
	}
}

// varType returns the declared type of v, or the type evident from its
// initializer, or "".
func (x *extractor) varType(v *varDef) string {
	if t, ok := x.vmemo[v]; ok {
		return t
	}
	if x.vbusy[v] {
		return ""
	}
	x.vbusy[v] = true
	defer delete(x.vbusy, v)
	t := ""
	s := v.spec
	switch {
	case s.Type != nil:
		t = typeString(s.Type, nil)
	case len(s.Values) == len(s.Names):
		t = x.exprType(s.Values[v.idx], 0, 1)
	case len(s.Values) == 1:
		t = x.exprType(s.Values[0], v.idx, len(s.Names))
	}
	x.vmemo[v] = t
	return t
}

// exprType infers the type of result idx (of n) of e, or "".
func (x *extractor) exprType(e ast.Expr, idx, n int) string {
	e = unparen(e)
	if n != 1 {
		if c, ok := e.(*ast.CallExpr); ok {
			return x.callResult(c, idx, n)
		}
		return ""
	}
	switch e := e.(type) {
	case *ast.BasicLit:
		switch e.Kind {
		case token.INT:
			return "int"
		case token.FLOAT:
			return "float64"
		case token.IMAG:
			return "complex128"
		case token.CHAR:
			return "int32"
		case token.STRING:
			return "string"
		}
	case *ast.CompositeLit:
		if e.Type != nil {
			return typeString(e.Type, nil)
		}
	case *ast.UnaryExpr:
		if e.Op == token.AND {
			if cl, ok := unparen(e.X).(*ast.CompositeLit); ok && cl.Type != nil {
				return "*" + typeString(cl.Type, nil)
			}
		}
	case *ast.FuncLit:
		return typeString(e.Type, nil)
	case *ast.Ident:
		if defs := x.vars[e.Name]; len(defs) == 1 {
			return x.varType(defs[0])
		}
		if e.Name == "true" || e.Name == "false" {
			return "bool"
		}
	case *ast.CallExpr:
		return x.callResult(e, 0, 1)
	}
	return ""
}

// callResult infers the type of result idx (of n) of the call c: a
// conversion to a type of the package, a call of a function of the package,
// errors.New or fmt.Errorf.
func (x *extractor) callResult(c *ast.CallExpr, idx, n int) string {
	switch f := unparen(c.Fun).(type) {
	case *ast.Ident:
		if x.types[f.Name] && len(c.Args) == 1 && n == 1 {
			return f.Name
		}
		defs := x.funcs[f.Name]
		if len(defs) == 0 || defs[0].Type.TypeParams != nil {
			return ""
		}
		t := ""
		for i, d := range defs {
			var results []string
			if d.Type.Results != nil {
				for _, r := range normFields(d.Type.Results, nil).List {
					results = append(results, typeString(r.Type, nil))
				}
			}
			if len(results) != n {
				return ""
			}
			if i > 0 && results[idx] != t {
				return "" // differs between build variants
			}
			t = results[idx]
		}
		return t
	case *ast.SelectorExpr:
		if p, ok := f.X.(*ast.Ident); ok && n == 1 {
			if (p.Name == "errors" && f.Sel.Name == "New") || (p.Name == "fmt" && f.Sel.Name == "Errorf") {
				return "error"
			}
		}
	}
	return ""
}

func (x *extractor) constDef(c *constDef) {
	r := x.evalConst(c)
	if r.typ != "" {
		x.add("const %s %s", c.name, r.typ)
	}
	if r.val != nil {
		x.add("const %s = %s", c.name, valueString(r.val))
	}
	if r.typ == "" && r.val == nil && c.val != nil {
		x.add("const %s = %s", c.name, typeString(c.val, nil))
	}
}

// evalConst computes c's type and value as far as the syntax allows.
func (x *extractor) evalConst(c *constDef) *constResult {
	if r, ok := x.memo[c]; ok {
		return r
	}
	if x.busy[c] {
		return &constResult{}
	}
	x.busy[c] = true
	defer delete(x.busy, c)
	r := &constResult{}
	if c.val != nil {
		r = x.eval(c.val, c.iota)
	}
	if c.typ != nil {
		r = &constResult{val: r.val, typ: typeString(c.typ, nil)}
	}
	x.memo[c] = r
	return r
}

// eval evaluates the constant expression e; it never panics (go/constant
// does on mismatched operands).
func (x *extractor) eval(e ast.Expr, iota int64) (r *constResult) {
	defer func() {
		if recover() != nil {
			r = &constResult{typ: r.typ}
		}
	}()
	r = &constResult{}
	switch e := e.(type) {
	case *ast.ParenExpr:
		return x.eval(e.X, iota)
	case *ast.BasicLit:
		v := constant.MakeFromLiteral(e.Value, e.Kind, 0)
		if v.Kind() != constant.Unknown {
			r.val = v
		}
	case *ast.Ident:
		switch e.Name {
		case "iota":
			r.val = constant.MakeInt64(iota)
		case "true", "false":
			r.val = constant.MakeBool(e.Name == "true")
		default:
			if defs := x.consts[e.Name]; len(defs) == 1 {
				return x.evalConst(defs[0])
			}
		}
	case *ast.UnaryExpr:
		y := x.eval(e.X, iota)
		r.typ = y.typ
		if y.val != nil && (e.Op != token.XOR || signedTypes[y.typ]) {
			r.val = constant.UnaryOp(e.Op, y.val, 0)
		}
	case *ast.BinaryExpr:
		a, b := x.eval(e.X, iota), x.eval(e.Y, iota)
		switch e.Op {
		case token.SHL, token.SHR:
			r.typ = a.typ
			if a.val != nil && b.val != nil {
				if s, ok := constant.Uint64Val(constant.ToInt(b.val)); ok {
					r.val = constant.Shift(a.val, e.Op, uint(s))
				}
			}
		case token.EQL, token.NEQ, token.LSS, token.LEQ, token.GTR, token.GEQ:
			if a.val != nil && b.val != nil {
				r.val = constant.MakeBool(constant.Compare(a.val, e.Op, b.val))
			}
		default:
			r.typ = a.typ
			if r.typ == "" {
				r.typ = b.typ
			}
			if a.val != nil && b.val != nil {
				op := e.Op
				if op == token.QUO && a.val.Kind() == constant.Int && b.val.Kind() == constant.Int {
					op = token.QUO_ASSIGN // integer division
				}
				r.val = constant.BinaryOp(a.val, op, b.val)
			}
		}
	case *ast.CallExpr:
		if len(e.Args) != 1 {
			return r
		}
		if id, ok := unparen(e.Fun).(*ast.Ident); ok {
			switch id.Name {
			case "len", "cap", "real", "imag", "complex", "min", "max":
				return r // builtins, not conversions
			}
		}
		if s, ok := unparen(e.Fun).(*ast.SelectorExpr); ok {
			if p, ok := s.X.(*ast.Ident); ok && p.Name == "unsafe" {
				return r
			}
		}
		// Only builtins may be called in a constant expression, so this
		// is a conversion.
		y := x.eval(e.Args[0], iota)
		r.typ = typeString(e.Fun, nil)
		if y.val != nil && !(r.typ == "string" && y.val.Kind() != constant.String) {
			r.val = y.val
		}
	}
	return r
}

// signedTypes are the types for which ^x of a constant can be computed
// without knowing the size ("" is untyped).
var signedTypes = map[string]bool{"": true, "int": true, "int8": true, "int16": true, "int32": true, "int64": true, "rune": true}

// valueString formats a constant value deterministically.
func valueString(v constant.Value) string {
	switch v.Kind() {
	case constant.String:
		return strconv.Quote(constant.StringVal(v))
	case constant.Float:
		if f, _ := constant.Float64Val(v); !math.IsInf(f, 0) {
			return strconv.FormatFloat(f, 'g', -1, 64)
		}
	}
	return v.ExactString()
}

// typeString prints the type expression e on one line, with parameter
// names dropped and type parameters renamed by tp.
func typeString(e ast.Expr, tp map[string]string) string {
	return printNode(norm(e, tp))
}

// printNode prints n with go/printer and folds the result onto one line.
func printNode(n ast.Node) string {
	var b bytes.Buffer
	cfg := printer.Config{Mode: printer.RawFormat}
	if err := cfg.Fprint(&b, token.NewFileSet(), n); err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return oneLine(b.String())
}

// oneLine joins the lines of a printed type: "struct {\n\tA int\n\tB int\n}"
// becomes "struct { A int; B int }", "struct {\n}" becomes "struct{}", and
// runs of blanks outside string literals become one space.
func oneLine(s string) string {
	var out string
	for _, l := range strings.Split(s, "\n") {
		l = collapseSpace(l)
		if l == "" {
			continue
		}
		switch {
		case out == "":
			out = l
		case strings.HasSuffix(out, " {") && strings.HasPrefix(l, "}"):
			out = strings.TrimSuffix(out, " {") + "{" + l
		case strings.HasSuffix(out, "{") || strings.HasPrefix(l, "}"):
			out += " " + l
		default:
			out += "; " + l
		}
	}
	return out
}

// collapseSpace trims l and replaces every run of blanks outside quotes by
// one space.
func collapseSpace(l string) string {
	var b strings.Builder
	var quote byte
	space := false
	for i := 0; i < len(l); i++ {
		c := l[i]
		if quote != 0 {
			b.WriteByte(c)
			switch {
			case c == '\\' && quote != '`' && i+1 < len(l):
				i++
				b.WriteByte(l[i])
			case c == quote:
				quote = 0
			}
			continue
		}
		if c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if c == '"' || c == '\'' || c == '`' {
			quote = c
		}
		b.WriteByte(c)
	}
	return b.String()
}

// norm returns a position-free copy of the type expression e in which
// function types have no parameter or result names and the identifiers of
// tp (type parameters) are renamed.
func norm(e ast.Expr, tp map[string]string) ast.Expr {
	switch e := e.(type) {
	case nil:
		return nil
	case *ast.Ident:
		if r, ok := tp[e.Name]; ok {
			return ast.NewIdent(r)
		}
		return ast.NewIdent(e.Name)
	case *ast.SelectorExpr:
		return &ast.SelectorExpr{X: norm(e.X, nil), Sel: ast.NewIdent(e.Sel.Name)}
	case *ast.StarExpr:
		return &ast.StarExpr{X: norm(e.X, tp)}
	case *ast.ParenExpr:
		return &ast.ParenExpr{X: norm(e.X, tp)}
	case *ast.ArrayType:
		return &ast.ArrayType{Len: norm(e.Len, tp), Elt: norm(e.Elt, tp)}
	case *ast.MapType:
		return &ast.MapType{Key: norm(e.Key, tp), Value: norm(e.Value, tp)}
	case *ast.ChanType:
		return &ast.ChanType{Dir: e.Dir, Value: norm(e.Value, tp)}
	case *ast.Ellipsis:
		return &ast.Ellipsis{Elt: norm(e.Elt, tp)}
	case *ast.FuncType:
		return normFunc(e, tp)
	case *ast.IndexExpr:
		return &ast.IndexExpr{X: norm(e.X, tp), Index: norm(e.Index, tp)}
	case *ast.IndexListExpr:
		l := &ast.IndexListExpr{X: norm(e.X, tp)}
		for _, i := range e.Indices {
			l.Indices = append(l.Indices, norm(i, tp))
		}
		return l
	case *ast.UnaryExpr:
		return &ast.UnaryExpr{Op: e.Op, X: norm(e.X, tp)}
	case *ast.BinaryExpr:
		return &ast.BinaryExpr{Op: e.Op, X: norm(e.X, tp), Y: norm(e.Y, tp)}
	case *ast.BasicLit:
		return &ast.BasicLit{Kind: e.Kind, Value: e.Value}
	case *ast.CallExpr:
		c := &ast.CallExpr{Fun: norm(e.Fun, tp)}
		for _, a := range e.Args {
			c.Args = append(c.Args, norm(a, tp))
		}
		return c
	case *ast.StructType:
		fl := &ast.FieldList{}
		for _, f := range e.Fields.List {
			nf := &ast.Field{Type: norm(f.Type, tp)}
			for _, id := range f.Names {
				nf.Names = append(nf.Names, ast.NewIdent(id.Name))
			}
			if f.Tag != nil {
				nf.Tag = &ast.BasicLit{Kind: f.Tag.Kind, Value: f.Tag.Value}
			}
			fl.List = append(fl.List, nf)
		}
		return &ast.StructType{Fields: fl}
	case *ast.InterfaceType:
		fl := &ast.FieldList{}
		for _, f := range e.Methods.List {
			nf := &ast.Field{Type: norm(f.Type, tp)}
			for _, id := range f.Names {
				nf.Names = append(nf.Names, ast.NewIdent(id.Name))
			}
			fl.List = append(fl.List, nf)
		}
		return &ast.InterfaceType{Methods: fl}
	}
	return e // anything else is printed as written
}

// normFunc is norm for a function type.
func normFunc(ft *ast.FuncType, tp map[string]string) *ast.FuncType {
	n := &ast.FuncType{Params: normFields(ft.Params, tp), Results: normFields(ft.Results, tp)}
	if n.Params == nil {
		n.Params = &ast.FieldList{}
	}
	return n
}

// normFields drops the names of a parameter list, repeating the type of a
// group (a, b int) once per name.
func normFields(fl *ast.FieldList, tp map[string]string) *ast.FieldList {
	if fl == nil {
		return nil
	}
	out := &ast.FieldList{}
	for _, f := range fl.List {
		for range max(1, len(f.Names)) {
			out.List = append(out.List, &ast.Field{Type: norm(f.Type, tp)})
		}
	}
	return out
}

package main

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"testing"
)

// TestForwarderDLL parses the generated DLL with debug/pe and follows its
// export directory to the one forwarded name.
func TestForwarderDLL(t *testing.T) {
	f, err := pe.NewFile(bytes.NewReader(forwarderDLL()))
	if err != nil {
		t.Fatal(err)
	}
	if f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 || f.Characteristics&pe.IMAGE_FILE_DLL == 0 {
		t.Fatalf("machine %#x characteristics %#x", f.Machine, f.Characteristics)
	}
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok {
		t.Fatalf("optional header %T, want PE32+", f.OptionalHeader)
	}
	dir := oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_EXPORT]
	if len(f.Sections) != 1 || f.Sections[0].VirtualAddress != dir.VirtualAddress {
		t.Fatalf("export directory %+v not at the section start", dir)
	}
	data, err := f.Sections[0].Data()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	at := func(rva uint32) []byte { return data[rva-dir.VirtualAddress:] }
	cstr := func(rva uint32) string {
		b := at(rva)
		return string(b[:bytes.IndexByte(b, 0)])
	}
	if got := cstr(le.Uint32(data[12:])); got != dllName {
		t.Errorf("dll name %q", got)
	}
	if n, names := le.Uint32(data[20:]), le.Uint32(data[24:]); n != 1 || names != 1 {
		t.Fatalf("%d functions, %d names", n, names)
	}
	if got := cstr(le.Uint32(at(le.Uint32(data[32:])))); got != expName {
		t.Errorf("export name %q", got)
	}
	fn := le.Uint32(at(le.Uint32(data[28:])))
	if fn < dir.VirtualAddress || fn >= dir.VirtualAddress+dir.Size {
		t.Fatalf("function RVA %#x outside the export directory: not a forwarder", fn)
	}
	if got := cstr(fn); got != forwardTo {
		t.Errorf("forwarder %q", got)
	}
}

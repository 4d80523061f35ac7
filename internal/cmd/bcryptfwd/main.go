// Command bcryptfwd writes bcryptprimitives.dll for Wine 8.0: a PE32+ DLL
// with no code whose only export, ProcessPrng, forwards to
// advapi32.SystemFunction036 (RtlGenRandom). Go >= 1.22 on Windows imports
// ProcessPrng and Wine 8.0 does not ship that DLL (see
// ../shared/research/windows-wine.md); the Wine test script puts this file
// in the prefix's system32.
//
// Usage: go run ./internal/cmd/bcryptfwd -o path/to/bcryptprimitives.dll
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"os"
)

const (
	fileAlign = 0x200
	sectAlign = 0x1000
	sectRVA   = 0x1000
	dllName   = "bcryptprimitives.dll"
	expName   = "ProcessPrng"
	forwardTo = "advapi32.SystemFunction036"
)

// forwarderDLL returns the bytes of the DLL: headers in the first 0x200
// bytes, then one read-only section holding the export directory.
func forwarderDLL() []byte {
	// Section contents, offsets relative to the section start.
	const (
		offDir   = 0  // IMAGE_EXPORT_DIRECTORY, 40 bytes
		offEAT   = 40 // one function RVA
		offNames = 44 // one name RVA
		offOrds  = 48 // one ordinal (uint16)
		offDLL   = 50
	)
	offExp := offDLL + len(dllName) + 1
	offFwd := offExp + len(expName) + 1
	secLen := offFwd + len(forwardTo) + 1

	sec := make([]byte, fileAlign)
	le := binary.LittleEndian
	le.PutUint32(sec[offDir+12:], uint32(sectRVA+offDLL)) // Name
	le.PutUint32(sec[offDir+16:], 1)                      // Base
	le.PutUint32(sec[offDir+20:], 1)                      // NumberOfFunctions
	le.PutUint32(sec[offDir+24:], 1)                      // NumberOfNames
	le.PutUint32(sec[offDir+28:], uint32(sectRVA+offEAT))
	le.PutUint32(sec[offDir+32:], uint32(sectRVA+offNames))
	le.PutUint32(sec[offDir+36:], uint32(sectRVA+offOrds))
	// A function RVA inside the export directory's range is a forwarder.
	le.PutUint32(sec[offEAT:], uint32(sectRVA+offFwd))
	le.PutUint32(sec[offNames:], uint32(sectRVA+offExp))
	le.PutUint16(sec[offOrds:], 0)
	copy(sec[offDLL:], dllName)
	copy(sec[offExp:], expName)
	copy(sec[offFwd:], forwardTo)

	hdr := make([]byte, fileAlign)
	copy(hdr, "MZ")
	le.PutUint32(hdr[0x3c:], 0x40) // e_lfanew
	copy(hdr[0x40:], "PE\x00\x00")
	coff := hdr[0x44:]
	le.PutUint16(coff[0:], 0x8664) // AMD64
	le.PutUint16(coff[2:], 1)      // sections
	le.PutUint16(coff[16:], 240)   // SizeOfOptionalHeader
	le.PutUint16(coff[18:], 0x2022)
	opt := coff[20:]
	le.PutUint16(opt[0:], 0x20b) // PE32+
	le.PutUint32(opt[8:], fileAlign)
	le.PutUint32(opt[20:], sectRVA) // BaseOfCode
	le.PutUint64(opt[24:], 0x180000000)
	le.PutUint32(opt[32:], sectAlign)
	le.PutUint32(opt[36:], fileAlign)
	le.PutUint16(opt[40:], 6)                 // OS version
	le.PutUint16(opt[48:], 6)                 // subsystem version
	le.PutUint32(opt[56:], sectRVA+sectAlign) // SizeOfImage
	le.PutUint32(opt[60:], fileAlign)         // SizeOfHeaders
	le.PutUint16(opt[68:], 3)                 // console subsystem
	le.PutUint16(opt[70:], 0x100)             // NX compatible
	le.PutUint64(opt[72:], 0x100000)
	le.PutUint64(opt[80:], 0x1000)
	le.PutUint64(opt[88:], 0x100000)
	le.PutUint64(opt[96:], 0x1000)
	le.PutUint32(opt[108:], 16)             // NumberOfRvaAndSizes
	le.PutUint32(opt[112:], sectRVA)        // export directory RVA
	le.PutUint32(opt[116:], uint32(secLen)) // and size
	sh := opt[240:]
	copy(sh, ".rdata")
	le.PutUint32(sh[8:], uint32(secLen)) // VirtualSize
	le.PutUint32(sh[12:], sectRVA)
	le.PutUint32(sh[16:], fileAlign) // SizeOfRawData
	le.PutUint32(sh[20:], fileAlign) // PointerToRawData
	le.PutUint32(sh[36:], 0x40000040)
	return append(hdr, sec...)
}

func main() {
	out := flag.String("o", dllName, "output file")
	flag.Parse()
	if err := os.WriteFile(*out, forwarderDLL(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "bcryptfwd:", err)
		os.Exit(1)
	}
}

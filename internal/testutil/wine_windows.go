package testutil

import "golang.org/x/sys/windows"

// UnderWine reports whether the process runs under Wine (whose ntdll
// exports wine_get_version), where a few Winsock details differ from
// Windows.
func UnderWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

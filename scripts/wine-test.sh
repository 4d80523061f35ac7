#!/bin/sh
# wine-test.sh PKG...: runs `GOOS=windows GOARCH=amd64 go test` for PKG under
# Wine (Debian's wine64, installed when missing) in a prefix cached under
# $NETLOOP_WINE_CACHE (default $HOME/.cache/netloop-wine). Facts behind each
# step: ../shared/research/windows-wine.md. Called by `make wine-test`.
# wine-test.sh --run PROG.exe ARGS...: runs a Windows program in the same
# prepared prefix instead (scripts/wine-echo.sh uses it).
set -eu
WINEBIN=/usr/lib/wine
if [ ! -x "$WINEBIN/wine64" ]; then
	echo "wine-test: installing wine64"
	SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends wine64 >/dev/null
fi
CACHE=${NETLOOP_WINE_CACHE:-$HOME/.cache/netloop-wine}
export WINEPREFIX="$CACHE/prefix" WINEDLLOVERRIDES="mscoree,mshtml=" WINEDEBUG=-all
mkdir -p "$CACHE/bin"
# One run at a time per prefix: the exit trap's wineserver -k would end
# another run's Wine session. -o keeps the lock's descriptor from the
# children: a wineserver that outlived the run would hold it forever.
if [ -z "${NETLOOP_WINE_LOCKED:-}" ] && command -v flock >/dev/null 2>&1; then
	NETLOOP_WINE_LOCKED=1 exec flock -o "$CACHE/lock" "$0" "$@"
fi
# Stop this prefix's wineserver however we leave (go test keeps no Wine
# process alive past its binaries, but the server lingers for a while).
trap '"$WINEBIN/wineserver" -k >/dev/null 2>&1 || true' EXIT
if [ ! -f "$CACHE/prefix.ready" ]; then
	echo "wine-test: creating prefix $WINEPREFIX"
	rm -rf "$WINEPREFIX"
	"$WINEBIN/wine64" wineboot --init >/dev/null 2>&1 </dev/null
	"$WINEBIN/wineserver" -w
	touch "$CACHE/prefix.ready"
fi
# Go >= 1.22 needs bcryptprimitives.dll (ProcessPrng), absent from Wine 8.0.
go run ./internal/cmd/bcryptfwd -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll"
# go test runs GOOS=windows test binaries through go_windows_amd64_exec.
cat >"$CACHE/bin/go_windows_amd64_exec" <<EOS
#!/bin/sh
exec "$WINEBIN/wine64" "\$@"
EOS
chmod +x "$CACHE/bin/go_windows_amd64_exec"
# Start the session now, away from go test's pipes, or go test waits on
# the pipes wineserver inherits ("Test I/O incomplete").
"$WINEBIN/wineserver" -p >/dev/null 2>&1 </dev/null
"$WINEBIN/wine64" cmd /c exit >/dev/null 2>&1 </dev/null
if [ "${1:-}" = "--run" ]; then
	shift
	"$WINEBIN/wine64" "$@"
	exit
fi
PATH="$CACHE/bin:$PATH" GOOS=windows GOARCH=amd64 go test -count=1 -timeout 5m "$@"

#!/bin/sh
# wine-echo.sh: the benchmark's netloop echo peer built for Windows and run
# under Wine, against the Linux load generator: 64-byte ping-pong with 1 and
# with 100 connections, 2 s each. For correctness and a rough round-trip
# figure only: Wine's AFD emulation goes through wineserver, so this says
# nothing about real Windows. Run from the repository root.
set -eu
ROOT=$(pwd)
OUT=$(mktemp -d)
PEER= STARTED=
# Once started, the peer holds the prefix's lock (see wine-test.sh), so no
# other Wine program runs there: ending the prefix's wineserver ends just
# the peer. Before that, only the lock's waiter is ours to stop.
stop() {
	if [ -n "$STARTED" ]; then
		WINEPREFIX="${NETLOOP_WINE_CACHE:-$HOME/.cache/netloop-wine}/prefix" /usr/lib/wine/wineserver -k 2>/dev/null || true
	elif [ -n "$PEER" ]; then
		kill "$PEER" 2>/dev/null || true
	fi
	[ -z "$PEER" ] || wait "$PEER" 2>/dev/null || true
	rm -rf "$OUT"
}
trap stop EXIT
(cd bench && GOOS=windows GOARCH=amd64 go build -o "$OUT/netloop.exe" ./peers/netloop && go build -o "$OUT/loadgen" ./cmd/loadgen)
PORT=${PORT:-9307}
"$ROOT/scripts/wine-test.sh" --run "$OUT/netloop.exe" -port "$PORT" >"$OUT/peer.out" 2>&1 &
PEER=$!
i=0
until grep -q ready "$OUT/peer.out" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 900 ] || { echo "wine-echo: the peer did not start in 3 minutes"; cat "$OUT/peer.out"; exit 1; }
	sleep 0.2
done
STARTED=1
for c in 1 100; do
	printf 'wine, %3d connections: ' "$c"
	"$OUT/loadgen" -mode echo -addr "127.0.0.1:$PORT" -c "$c" -s 64 -d 1 -w 500ms -t 2s | tail -1 |
		sed -E 's/.*"msgs_per_s":([0-9.]+).*"p50_ns":([0-9]+).*"p99_ns":([0-9]+).*/\1 \2 \3/' |
		awk '{printf "%.0f round trips/s, p50 %.0f us, p99 %.0f us\n", $1, $2/1000, $3/1000}'
done

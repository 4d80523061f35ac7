#!/usr/bin/env bash
# usage: bench/idle_marginal.sh [PEER_BINARY] [PORT]: the RSS an idle
# connection costs, twice over: for the first 9,000 connections (what
# make bench's idle-9000 case measures, fixed costs such as the Go
# runtime's first GC metadata included) and for 9,000 more on top (the
# marginal cost). Each batch is a load generator in idle mode (each
# connection echoes one 64 B message, then stays open); the server's
# VmRSS is read 1 s after each batch is held. As in make bench, the
# baseline is read after one warm-up connection has echoed and closed
# (the figure from a cold server, which also charges the code pages the
# first connection faults in, is printed too). Default peer: the netloop
# echo peer. Run from the bench directory.
set -eu
bin=${1:-.bin/netloop}; port=${2:-19378}
go build -o .bin/netloop ./peers/netloop
go build -o .bin/loadgen ./cmd/loadgen
# The batches hold their connections until their stdin, this fifo, ends.
fifo=$(mktemp -u); mkfifo "$fifo"; exec 3<>"$fifo"
taskset -c 0 "$bin" -port "$port" >/dev/null 2>&1 &
srv=$!
trap 'exec 3>&-; rm -f "$fifo"; sleep 0.5; kill $srv 2>/dev/null || true' EXIT
for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
sleep 0.3
rss() { awk '/VmRSS/{print $2}' /proc/$srv/status; }
hold() { # starts a batch of 9,000 idle connections in the background, waits until held
  local f; f=$(mktemp)
  taskset -c 1 .bin/loadgen -mode idle -addr 127.0.0.1:$port -s 64 -d 128 -c 9000 <"$fifo" >"$f" 2>&1 3>&- &
  for i in $(seq 600); do grep -q '^held' "$f" && break; sleep 0.1; done
  grep -q '^held' "$f" || { echo "batch not held: $(cat "$f")"; exit 1; }
  rm -f "$f"
}
rc=$(rss)
exec 4<>/dev/tcp/127.0.0.1/$port; printf '%064d' 0 >&4; read -r -N 64 _ <&4; exec 4>&-
sleep 0.3
r0=$(rss)
hold; sleep 1; r1=$(rss)
hold; sleep 1; r2=$(rss)
echo "$bin: first 9000: $(( (r1-r0)*1024/9000 )) B/conn ($(( (r1-rc)*1024/9000 )) from cold), next 9000: $(( (r2-r1)*1024/9000 )) B/conn (VmRSS $rc -> $r0 -> $r1 -> $r2 KiB)"

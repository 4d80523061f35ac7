#!/usr/bin/env bash
# usage: bench/uring_1conn.sh [ROUNDS] [PORT]: 64 B ping-pong over ONE
# connection against the netloop peer on epoll and on its opt-in io_uring
# poller (NETLOOP_IOURING=1), interleaved for ROUNDS rounds (default 5),
# server on CPU 0 and loadgen on CPU 1 as in make bench. Prints the
# server's CPU per message (utime+stime from /proc over the whole
# loadgen run, warm-up included, divided by its total_msgs) per round and
# the per-round ratio io_uring / epoll. Run from the bench directory.
set -eu
rounds=${1:-5}; port=${2:-19377}
go build -o .bin/netloop ./peers/netloop
go build -o .bin/loadgen ./cmd/loadgen
tck=$(getconf CLK_TCK)
run() { # $1: env assignment or "", prints ns/msg
  env $1 taskset -c 0 .bin/netloop -port "$port" >/dev/null 2>&1 &
  local pid=$!
  for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
  local c0; c0=$(awk '{print $14+$15}' /proc/$pid/stat)
  local out; out=$(taskset -c 1 .bin/loadgen -mode echo -addr 127.0.0.1:$port -s 64 -d 1 -c 1 -w 1s -t 3s 2>/dev/null)
  local c1; c1=$(awk '{print $14+$15}' /proc/$pid/stat)
  kill $pid; wait $pid 2>/dev/null || true
  local msgs; msgs=$(echo "$out" | sed -n 's/.*"total_msgs":\([0-9]*\).*/\1/p')
  awk -v c=$((c1-c0)) -v t="$tck" -v m="$msgs" 'BEGIN{printf "%.0f", c*1e9/t/m}'
}
for r in $(seq "$rounds"); do
  e=$(run "")
  u=$(run NETLOOP_IOURING=1)
  awk -v r="$r" -v e="$e" -v u="$u" 'BEGIN{printf "round %d: epoll %d ns/msg  io_uring %d ns/msg  ratio %.2f\n", r, e, u, u/e}'
done

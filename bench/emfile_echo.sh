#!/usr/bin/env bash
# usage: bench/emfile_echo.sh REPO PORT: builds REPO/examples/echo (REPO is
# a netloop checkout, e.g. . or an older worktree), runs it with
# RLIMIT_NOFILE=64, opens 100 clients, reports whether it survived.
set -u
repo=$1; port=$2
bin=$(mktemp -d)/echo
(cd "$repo" && go build -o "$bin" ./examples/echo) || exit 1
prlimit --nofile=64:64 "$bin" -port "$port" > /tmp/echo.$port.out 2> /tmp/echo.$port.err &
pid=$!
for i in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
fds=()
for i in $(seq 100); do
  if exec {fd}<>/dev/tcp/127.0.0.1/$port 2>/dev/null; then fds+=($fd); fi
done
sleep 2
greeted=0
for fd in "${fds[@]}"; do
  if read -t 0.2 -u $fd line 2>/dev/null && [[ "$line" == hello* ]]; then greeted=$((greeted+1)); fi
  exec {fd}>&-
done
sleep 0.5
if kill -0 $pid 2>/dev/null; then alive=true; else alive=false; fi
served=false
if $alive && exec {fd}<>/dev/tcp/127.0.0.1/$port 2>/dev/null; then
  read -t 2 -u $fd line && [[ "$line" == hello* ]] && served=true
  exec {fd}>&-
fi
echo "repo=$repo connected=${#fds[@]} greeted=$greeted alive=$alive served_after=$served stderr_last=$(tail -1 /tmp/echo.$port.err)"
kill $pid 2>/dev/null; wait $pid 2>/dev/null

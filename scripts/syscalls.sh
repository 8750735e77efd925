#!/usr/bin/env bash
# The override path makes no system call, not even on the first call: strace counts the
# system calls made between two marker writes around 1000 available_parallelism() calls on
# lua5.4 with the real .so. The detection path is the control: strace must see its reads
# there. And explain() opens no file the kernel formats per CPU or per interrupt, whose cost
# grows with the machine: strace lists the files 100 explain() calls name. Prints TAP.
set -uo pipefail
cd "$(dirname "$0")/.."
failed=0

source scripts/lua54.sh

window() { # log -> number of system calls between the two markers
  awk '/kumo-window-end/ { inside = 0 } inside { n++ } /kumo-window-begin/ { inside = 1; seen = 1 }
       END { if (seen) print n + 0; else print "none" }' "$1"
}

echo "1..4"
log="$log_dir/strace-override.log"
with_override 8 strace -f -o "$log" "$LUA" lua/strace/window.lua 1000 2>/dev/null
count=$(window "$log")
if [ "$count" = 0 ]; then
  echo "ok 1 - override path: 0 system calls in 1000 calls"
else
  failed=1; echo "not ok 1 - override path: $count system calls in 1000 calls (see $log)"
  awk '/kumo-window-begin/,/kumo-window-end/' "$log" | head -n 10 | sed 's/^/# /'
fi

log="$log_dir/strace-detect.log"
with_override "" strace -f -o "$log" "$LUA" lua/strace/window.lua 1000 2>/dev/null
count=$(window "$log")
if [ "$count" != none ] && [ "$count" -ge 1000 ]; then
  echo "ok 2 - detection path (control): strace sees $count system calls in 1000 calls"
else
  failed=1; echo "not ok 2 - detection path (control): strace saw $count system calls in 1000 calls, expected at least 1000"
fi
# The files explain() names, from strace's %file class (open, stat, readlink and the like).
log="$log_dir/strace-explain.log"
with_override "" strace -f -e trace=%file,write -o "$log" "$LUA" lua/strace/window.lua 100 explain 2>/dev/null
files=$(awk '/kumo-window-end/ { inside = 0 } inside { print } /kumo-window-begin/ { inside = 1 }' "$log" \
  | grep -v ' write(' | grep -o '"[^"]*"' | tr -d '"' | sort -u)
if grep -q '^/proc/self/cgroup$' <<<"$files"; then
  echo "ok 3 - explain() (control): strace sees it read /proc/self/cgroup"
else
  failed=1; echo "not ok 3 - explain() (control): strace sees it read /proc/self/cgroup"
  sed 's/^/# /' <<<"$files" | head -n 20
fi
per_cpu=$(grep -E '^/proc/(stat|interrupts|softirqs|cpuinfo)$|^/sys/devices/system/cpu/cpu[0-9]' <<<"$files")
if [ -z "$per_cpu" ]; then
  echo "ok 4 - explain() opens no file the kernel formats per CPU or per interrupt ($(wc -l <<<"$files") files named)"
else
  failed=1; echo "not ok 4 - explain() opens files the kernel formats per CPU or per interrupt"
  sed 's/^/# /' <<<"$per_cpu"
fi
[ "$failed" -eq 0 ]

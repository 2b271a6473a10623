#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The beltline command's arguments and what a bare cat SOURCE means, against a
# running instance (`gen | export name=web`):
# - a bare name is the stream even when a directory of that name is here (it was
#   "web: is a directory, not a pcap file"); a file of that name is the file, and
#   `cat web -w web` run again in the same place (the file now there) is refused, not
#   read while it is truncated;
# - a reader that closes cat's pipe (head, tcpdump -c) ends cat at once, with status 0
#   (on a slow stream cat went on for ever: only its buffer's flush met the closed pipe);
# - numbers with a blank or a sign, stray words after top's options, an option
#   without its value: usage errors (2) naming the argument; -h/--help of every
#   command prints the usage (0); serve of a stream that is not there says so
#   at once (it listened, cutting every client) and a name too long says so;
# - stats as text has no empty tables and its column names stay apart.
. "$(dirname "$0")/lib.sh"
: "${BELTLINE:?}"

I=$(inst cli)
run=$T/run
mkdir "$run" "$T/here"
export BELTLINE_RUN_DIR=$run
cat > "$T/c.json" <<JSON
{ "instance": "$I", "ports": [ { "name": "in", "vdev": "net_null0" } ],
  "graphs": [ { "lcores": [1], "pipeline": "gen rate=2000 | export name=web" } ] }
JSON
"$BELTLINED" -q --duration 600 --stats-interval 0 "$T/c.json" > /dev/null 2> "$T/err" &
bpid=$!
trap 'kill -9 "$bpid" 2> /dev/null || true; rm -rf "$T"' EXIT
wait_ctl "$run/$I/ctl" "$bpid" "$T/err"
B() { "$BELTLINE" -i "$I" "$@"; }

# A bad instance name is a usage error, said once (ls said it twice: the library's line,
# then "instance 'x/y': Invalid argument").
set +e; "$BELTLINE" -i x/y ls > /dev/null 2> "$T/inst.err"; st=$?; set -e
eq "-i x/y ls: a usage error" "$st" 2
eq "... said in one line ($(cat "$T/inst.err"))" "$(wc -l < "$T/inst.err" | tr -d ' ')" 1
check "... naming the rule" grep -q "instance 'x/y' (-i or BELTLINE_INSTANCE): want 1..31 characters" "$T/inst.err"
cd "$T/here"

mkdir web
B cat web -c 3 > "$T/out.pcap" 2> "$T/cat.err" && st=0 || st=$?
eq "cat NAME with a directory NAME here: reads the stream (exit status; $(head -c 200 "$T/cat.err"))" "$st" 0
read -r n _ < <("$PCAP_CMP" -s "$T/out.pcap")
eq "... its 3 packets" "$n" 3
rmdir web
B cat web -c 3 -w web 2> "$T/cat.err" && st=0 || st=$?
eq "cat web -w web: the stream into file web (exit status)" "$st" 0
cp web web.first
B cat web -c 3 -w web > /dev/null 2> "$T/cat.err" && st=0 || st=$?
eq "again, file web now here: refused (exit status)" "$st" 2
check "... saying the output is the file being read ($(cat "$T/cat.err"))" \
	grep -q -- "-w web is the file being read" "$T/cat.err"
check "... and the first capture is whole" cmp -s web web.first
B cat "beltline://$I/web" -c 3 -w web 2> "$T/cat.err" && st=0 || st=$?
eq "cat beltline://INSTANCE/web -w web: the stream, as asked (exit status)" "$st" 0
B cat web -c 1 2> /dev/null | "$PCAP_CMP" -s /dev/stdin > "$T/n" && st=0 || st=$?
read -r n _ < "$T/n"
eq "cat web with file web here: the file (its first packet)" "$n" 1

# A reader that has what it wants and closes the pipe: not an error.
set +o pipefail
timeout 60 "$BELTLINE" -i "$I" cat "beltline://$I/web" 2> "$T/cat.err" | head -c 100 > /dev/null
st=${PIPESTATUS[0]}
set -o pipefail
eq "cat into a pipe its reader closed: exit status ($(head -c 200 "$T/cat.err"))" "$st" 0

# stats as text: no empty "gauges (1)" table under a filter (a list of names, for top), and
# columns apart by two spaces at least, each as wide as its header or its widest cell.
B stats > "$T/stats.txt"
check "stats: no gauges table" eval '! grep -q "^ *gauges" "$T/stats.txt"'
check "stats: column names apart ($(grep -o 'AWAITING_WORKERS *LAST_ERROR' "$T/stats.txt"))" \
	grep -q 'AWAITING_WORKERS  LAST_ERROR' "$T/stats.txt"
check "stats: a number ends under its header (RELOADS, 0)" \
	test "$(awk '/^  RELOADS/ { h = index($0, "RELOADS") + 6; getline; print (substr($0, h, 1) == "0" && substr($0, h + 1, 1) == " ") }' "$T/stats.txt")" = 1

usage() {   # usage WHAT EXPECTED-MESSAGE ARGS...: exit status 2 and the message
	local what=$1 msg=$2 st
	shift 2
	timeout 60 "$BELTLINE" -i "$I" "$@" > /dev/null 2> "$T/u.err" && st=0 || st=$?
	eq "$what: usage error" "$st" 2
	check "$what: says '$msg' ($(head -c 200 "$T/u.err"))" grep -qF -- "$msg" "$T/u.err"
}
usage "cat -c ' -5'" "-c wants a number" cat web -c ' -5'
usage "cat -c '+5'" "-c wants a number" cat web -c '+5'
usage "top -n ' 1'" "-n wants a number" top -n ' 1'
usage "top 5 -n 1" "unexpected argument '5'" top 5 -n 1
usage "tap -c ' 1'" "-c wants a number" tap gen -c ' 1'
usage "inject -l ' 2'" "-l wants a number" inject x /dev/null -l ' 2'
usage "serve --max-clients ' 3'" "--max-clients wants 1..1024" serve --max-clients ' 3' web tcp://127.0.0.1:1
usage "serve of a name too long" "stream name too long" serve "$(printf 'x%.0s' {1..600})" tcp://127.0.0.1:1
usage "exporter --listen without its value" "--listen wants ADDRESS:PORT" exporter --listen
usage "mount -x" "unknown option '-x'" mount -x "$T"
# getopt's own message names the command as typed (it said "cat: invalid option")
usage "cat -v" "beltline cat: invalid option -- 'v'" cat web -v
usage "inject -x" "beltline inject: invalid option -- 'x'" inject x /dev/null -x
# An instance that does not run: said once, then what runs instead (it said it twice)
set +e; "$BELTLINE" -i nope_$$ ls > /dev/null 2> "$T/nope.err"; st=$?; set -e
eq "-i nope ls: exit status" "$st" 1
eq "... two lines ($(tr '\n' '|' < "$T/nope.err"))" "$(wc -l < "$T/nope.err" | tr -d ' ')" 2
check "... the first says it does not run" grep -q "^beltline: no instance 'nope_$$' is running" "$T/nope.err"
check "... the second what does" grep -q "^beltline: running: .*$I.* (choose one with -i NAME" "$T/nope.err"
for c in ls stats top reload cat inject tap serve exporter; do
	B "$c" --help > "$T/h" 2>&1 && st=0 || st=$?
	eq "$c --help: exit status" "$st" 0
	# the command's own part (ls, stats, top, reload, cat, inject printed the whole text)
	check "$c --help: about $c" grep -q "$c" "$T/h"
	case $c in ls|stats|top|reload|cat|inject)
		check "$c --help: not the other commands' ($(wc -l < "$T/h") lines)" \
			test "$(grep -c '^  [a-z]' "$T/h")" = "$(grep -c "^  $c\b" "$T/h")" ;;
	esac
done
B ls -h > "$T/h" 2>&1 && st=0 || st=$?
eq "ls -h: exit status" "$st" 0
timeout 60 "$BELTLINE" -i "$I" serve nosuch tcp://127.0.0.1:0 > /dev/null 2> "$T/s.err" && st=0 || st=$?
eq "serve of no such stream: exit status, at once" "$st" 1
check "... naming the stream ($(head -c 200 "$T/s.err"))" grep -q 'nosuch' "$T/s.err"

cd /
kill -TERM "$bpid"
rc=0; wait "$bpid" || rc=$?
eq "stops cleanly" "$rc" 0
finish

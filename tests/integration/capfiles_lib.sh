# SPDX-License-Identifier: BSD-3-Clause
# What the capture file tests share (capfiles.sh, cat_capfiles.sh), sourced after lib.sh
# with the instance's name part as $1: skip without tshark; beltline, the sample capture,
# the instance and its run folder; readers of a capture (dump, npkts, tsh) and the
# original's dump and fields in $T/ref.txt and $T/ref.fields.
command -v tshark > /dev/null || { echo "SKIP: no tshark (apt-get install tshark)"; exit 77; }
BELTLINE=${BELTLINE:-$(dirname "$BELTLINED")/beltline/beltline}
CAP=$SRCDIR/config/sample.pcap
I=$(inst "$1")
export BELTLINE_INSTANCE=$I BELTLINE_RUN_DIR=$T/run
mkdir -p "$BELTLINE_RUN_DIR"
dump() { tcpdump -r "$1" -nn -tt -e -xx 2> /dev/null; }
npkts() { tcpdump -r "$1" -nn 2> /dev/null | wc -l; }
tsh() { tshark -r "$1" -T fields "${@:2}" 2> "$T/tshark.err"; }
dump "$CAP" > "$T/ref.txt"
tsh "$CAP" -e frame.len -e frame.time_epoch > "$T/ref.fields"

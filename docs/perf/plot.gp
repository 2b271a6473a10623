# SPDX-License-Identifier: BSD-3-Clause
# The figures of docs/performance.md, from the CSVs docs/perf/make.sh writes
# (bench/*.sh with CSV=FILE). gnuplot 5 (Debian: gnuplot-nox), run in this folder:
#   cd docs/perf && gnuplot plot.gp
# Writes fwd.svg, delivery.svg, fanout.svg, bpf.svg. Bars are medians over the quiet
# rounds (over all rounds where none was quiet); every round is a point, filled when
# the machine was quiet during it, open when other work used more than BUSY_MAX cores
# (the scripts' "busy" mark).
set datafile separator comma
set terminal svg size 760,440 dynamic noenhanced font 'sans,12' background '#ffffff'
set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set style fill solid 0.35 border -1
set key top left noopaque
# y if the run was busy (b > 0) / quiet, else no point: plotted as two series. A run
# that produced no figure (nan, or 0 packets: the scripts say so) is no point at all.
busy(b, y) = (b > 0 && y > 0 ? y : NaN)
quiet(b, y) = (b > 0 || !(y > 0) ? NaN : y)

# --- forwarding: rx | tx between two net_null ports, one worker lcore, vs testpmd io ---
# fwd.csv: round,impl,mpps,other_cores,busy
# eval medof(FILE, COND, COLUMN, BUSYCOLUMN) sets MED to the median of COLUMN over the
# rows of FILE where COND holds and the run was quiet, else over all rows where COND
# holds (MED_ALL = 1 then), else NaN. Runs with no figure (COLUMN nan or 0) never count.
medof(file, cond, col, bcol) = sprintf("undefine Q_* A_*; set autoscale xy; \
	stats '%s' skip 1 using ((%s) && column(%d) == 0 && column(%d) > 0 ? column(%d) : NaN) name 'Q' nooutput; \
	stats '%s' skip 1 using ((%s) && column(%d) > 0 ? column(%d) : NaN) name 'A' nooutput; \
	MED = exists('Q_median') ? Q_median : exists('A_median') ? A_median : NaN; \
	MED_ALL = !exists('Q_median') && exists('A_median')", file, cond, bcol, col, col, file, cond, col, col)
eval medof('fwd.csv', 'strcol(2) eq "testpmd"', 3, 5); TP_median = MED; TP_all = MED_ALL
eval medof('fwd.csv', 'strcol(2) eq "beltlined"', 3, 5); BL_median = MED; BL_all = MED_ALL
set output 'fwd.svg'
set title sprintf("Forwarding, net_null <-> net_null, one worker lcore: beltlined / testpmd = %.2f%s", \
	BL_median / TP_median, (TP_all || BL_all ? "\n(bars: medians of all rounds, no quiet one)" : "\n(bars: medians of the quiet rounds)"))
set ylabel 'Mpps (both directions)'
set xrange [-0.6:1.6]
set yrange [0:*]
set xtics ('dpdk-testpmd io' 0, 'beltlined rx | tx' 1)
set boxwidth 0.5
set key below horizontal
$fwdmed << EOD
0 0
1 0
EOD
plot '+' using (0):(TP_median) every ::0::0 with boxes lc rgb '#888888' title 'median', \
     '+' using (1):(BL_median) every ::0::0 with boxes lc rgb '#3070b0' notitle, \
     'fwd.csv' skip 1 using (strcol(2) eq "testpmd" ? 0 : 1):(quiet($5, $3)) with points pt 7 ps 1.3 lc rgb 'black' title 'a round, quiet', \
     'fwd.csv' skip 1 using (strcol(2) eq "testpmd" ? 0 : 1):(busy($5, $3)) with points pt 6 ps 1.3 lc rgb 'black' title 'a round, busy'
unset xtics; set xtics nomirror

# --- delivery to one client process vs memif and AF_PACKET, 64 and 1500 B ---
# delivery.csv: round,size_b,kind,mpps,cpu_ns_per_pkt,machine_ns_per_pkt,busy
kinds = "memif bl_srp bl_frp afp"
kname(i) = word("memif beltline-srp beltline-frp AF_PACKET", i)
kcol(i) = word("#888888 #3070b0 #60a0e0 #c08040", i)
sizes = "64 1500"
xpos(s, i) = (s == 64 ? 0 : 5) + i - 1
ki(k) = (k eq "memif" ? 1 : k eq "bl_srp" ? 2 : k eq "bl_frp" ? 3 : 4)
array DM[8]
array DC[8]
do for [si = 1:2] {
	do for [i = 1:4] {
		sz = word(sizes, si) + 0
		k = word(kinds, i)
		eval medof('delivery.csv', sprintf('$2 == %d && strcol(3) eq "%s"', sz, k), 4, 7)
		DM[(si - 1) * 4 + i] = MED
		eval medof('delivery.csv', sprintf('$2 == %d && strcol(3) eq "%s"', sz, k), 5, 7)
		DC[(si - 1) * 4 + i] = MED
	}
}
set terminal svg size 900,440 dynamic noenhanced font 'sans,12' background '#ffffff'
set output 'delivery.svg'
set multiplot layout 1,2 title 'Delivery to one client process (bars: medians, of quiet rounds where any)'
set title 'Mpps received'
set ylabel 'Mpps'
set xrange [-0.8:8.8]
set yrange [0:*]
set xtics ('64 B' 1.5, '1500 B' 6.5) scale 0
set boxwidth 0.8
set key below horizontal maxrows 2 font 'sans,10'
plot for [i = 1:4] '+' using (xpos(64, i)):(DM[i]) every ::0::0 with boxes lc rgb kcol(i) title kname(i), \
     for [i = 1:4] '+' using (xpos(1500, i)):(DM[4 + i]) every ::0::0 with boxes lc rgb kcol(i) notitle, \
     'delivery.csv' skip 1 using (xpos($2, ki(strcol(3)))):(quiet($7, $4)) with points pt 7 ps 1.0 lc rgb 'black' title 'a round, quiet', \
     'delivery.csv' skip 1 using (xpos($2, ki(strcol(3)))):(busy($7, $4)) with points pt 6 ps 1.0 lc rgb 'black' title 'a round, busy'
set title 'CPU per packet, both processes (log scale)'
set ylabel 'ns per packet'
set logscale y
set yrange [10:*]
set key off
plot for [i = 1:4] '+' using (xpos(64, i)):(DC[i]) every ::0::0 with boxes lc rgb kcol(i) notitle, \
     for [i = 1:4] '+' using (xpos(1500, i)):(DC[4 + i]) every ::0::0 with boxes lc rgb kcol(i) notitle, \
     'delivery.csv' skip 1 using (xpos($2, ki(strcol(3)))):(quiet($7, $5)) with points pt 7 ps 1.0 lc rgb 'black' notitle, \
     'delivery.csv' skip 1 using (xpos($2, ki(strcol(3)))):(busy($7, $5)) with points pt 6 ps 1.0 lc rgb 'black' notitle
unset multiplot
unset logscale y
unset xtics; set xtics nomirror
unset output
set terminal svg size 760,440 dynamic noenhanced font 'sans,12' background '#ffffff'

# --- fan-out: the producer's written rate by number of readers ---
# fanout.csv: round,mode,policy,readers,written_mpps,offered_mpps,rx_sum_mpps,rx_min_mpps,lost,
#             reader_cores,busy,producer_cores,written_per_cpu,offered_per_cpu
combos = "poll,srp poll,frp sleep,srp sleep,frp"
nreaders = "0 1 2 4 8"
fcol(i) = word("#3070b0 #60a0e0 #b04040 #e08080", i)
# medians per (mode,policy) and number of readers: FW written, FC written per CPU-second
array FW[20]
array FC[20]
do for [i = 1:4] {
	do for [j = 1:5] {
		c = sprintf('strcol(2) . "," . strcol(3) eq "%s" && $4 == %s', word(combos, i), word(nreaders, j))
		eval medof('fanout.csv', c, 5, 11)
		FW[(i - 1) * 5 + j] = MED
		eval medof('fanout.csv', c, 13, 11)
		FC[(i - 1) * 5 + j] = MED
	}
}
set print $FAN   # one block a (mode,policy): readers, FW, FC
do for [i = 1:4] {
	do for [j = 1:5] { print sprintf("%s,%g,%g", word(nreaders, j), FW[(i - 1) * 5 + j], FC[(i - 1) * 5 + j]) }
	print ""; print ""
}
set print
set output 'fanout.svg'
set multiplot layout 1,2 title 'Fan-out: gen | export to N reader processes (lines: medians, of quiet runs where any)'
set title 'written by the producer'
set ylabel 'Mpps'
set xlabel 'readers'
set xrange [-0.5:8.5]
set yrange [0:*]
set xtics (0, 1, 2, 4, 8)
set key off
plot for [i = 1:4] $FAN index (i - 1) using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc rgb fcol(i) notitle, \
     'fanout.csv' skip 1 using 4:(quiet($11, $5)) with points pt 7 ps 0.8 lc rgb 'black' notitle, \
     'fanout.csv' skip 1 using 4:(busy($11, $5)) with points pt 6 ps 0.8 lc rgb 'black' notitle
set title 'per CPU-second of the producer'
set ylabel 'Mpps per CPU-second'
set key below horizontal maxrows 2 font 'sans,10'
plot for [i = 1:4] $FAN index (i - 1) using 1:3 with linespoints lw 2 pt 7 ps 0.5 lc rgb fcol(i) title word(combos, i), \
     'fanout.csv' skip 1 using 4:(quiet($11, $13)) with points pt 7 ps 0.8 lc rgb 'black' title 'a run, quiet', \
     'fanout.csv' skip 1 using 4:(busy($11, $13)) with points pt 6 ps 0.8 lc rgb 'black' title 'a run, busy'
unset multiplot
unset xlabel

# --- bpf: ns per packet, ours vs libpcap, per expression ---
# bpf.csv: expr,accepted,packets,ours_ns,libpcap_ns,ratio,jit,disagree,other_cores
stats 'bpf.csv' skip 1 using 4 name "N" nooutput
unset output
set terminal svg size 900,520 dynamic noenhanced font 'sans,11' background '#ffffff'
set output 'bpf.svg'
stats 'bpf.csv' skip 1 using 9 name "O" nooutput
set title sprintf("bpf filter (JIT) vs libpcap pcap_offline_filter: ns per packet, medians of the runs\n(other work on the machine while they ran: %.2f cores)", O_max)
set xlabel 'ns per packet'
unset ylabel
set yrange [N_records:-1] reverse
set xrange [0:*]
set ytics scale 0
unset xtics
set xtics nomirror
set grid xtics noytics lc rgb '#dddddd'
set key below horizontal
short(s) = (strlen(s) > 48 ? s[1:46] . '..' : s)
plot 'bpf.csv' skip 1 using ($5 / 2):($0 + 0.2):($5 / 2):(0.18):ytic(short(strcol(1))) with boxxyerror lc rgb '#888888' title 'libpcap', \
     '' skip 1 using ($4 / 2):($0 - 0.2):($4 / 2):(0.18) with boxxyerror lc rgb '#3070b0' title 'bpf (ours)', \
     '' skip 1 using ($5 + 0.3):($0):(sprintf("ours/libpcap %.2f", $6)) with labels left font 'sans,9' notitle

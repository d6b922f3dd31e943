# bench: the proxy and mirroring benchmarks (see docs/performance.md),
# their shared functions, and the scripts that install the dependencies
# and run the demo.
EXTRA_DIST += bench/proxy.sh bench/mirror.sh bench/tls.sh bench/lib.sh \
	bench/cpu.sh \
	tools/deps.sh \
	tools/demo.sh tools/proc.sh

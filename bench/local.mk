# bench: the proxy benchmark (see docs/performance.md), and the scripts
# that install the dependencies and run the demo.
EXTRA_DIST += bench/proxy.sh tools/deps.sh tools/demo.sh tools/proc.sh

# Documentation shipped in the tarball and installed in $(docdir).
dist_doc_DATA += README.md docs/architecture.md docs/configuration.md \
	docs/http.md docs/performance.md docs/operations.md \
	docs/divergence-log.md docs/divergence-log.schema.json \
	docs/metrics.md docs/mirroring.md \
	docs/tls.md
dist_doc_DATA += docs/triage.md

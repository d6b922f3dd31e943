# The manual pages, in mdoc(7). shadowdiff-compare.1 is installed as it
# is; shadowdiff.8 and shadowdiff.conf.5 name the default configuration
# file and the documentation directory, so they are made from their .in
# sources with this build's $(sysconfdir) and $(docdir).
dist_man1_MANS = man/shadowdiff-compare.1
dist_man1_MANS += man/shadowdiff-report.1
man_MANS += man/shadowdiff.8 man/shadowdiff.conf.5
EXTRA_DIST += man/shadowdiff.8.in man/shadowdiff.conf.5.in
CLEANFILES += man/shadowdiff.8 man/shadowdiff.conf.5

MAN_SUBST = sed -e 's|[@]sysconfdir[@]|$(sysconfdir)|g' \
	-e 's|[@]docdir[@]|$(docdir)|g'

man/shadowdiff.8: $(top_srcdir)/man/shadowdiff.8.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	$(MAN_SUBST) $(top_srcdir)/man/shadowdiff.8.in >$@.tmp && mv $@.tmp $@

man/shadowdiff.conf.5: $(top_srcdir)/man/shadowdiff.conf.5.in Makefile
	$(AM_V_GEN)$(MKDIR_P) man && \
	$(MAN_SUBST) $(top_srcdir)/man/shadowdiff.conf.5.in >$@.tmp && mv $@.tmp $@

# The systemd unit, with this build's paths, installed into the unit
# directory that pkg-config's systemd names (--with-systemdsystemunitdir
# overrides it); and the logrotate configuration.
systemdunitdir = $(systemdsystemunitdir)
systemdunit_DATA = systemd/shadowdiff.service
EXTRA_DIST += systemd/shadowdiff.service.in
CLEANFILES += systemd/shadowdiff.service

systemd/shadowdiff.service: $(top_srcdir)/systemd/shadowdiff.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) systemd && \
	sed -e 's|[@]sbindir[@]|$(sbindir)|g' \
	    -e 's|[@]sysconfdir[@]|$(sysconfdir)|g' \
	    $(top_srcdir)/systemd/shadowdiff.service.in >$@.tmp && mv $@.tmp $@

logrotatedir = $(sysconfdir)/logrotate.d
dist_logrotate_DATA = conf/logrotate/shadowdiff

# distcheck installs as a user, under its own prefix.
AM_DISTCHECK_CONFIGURE_FLAGS = \
	--with-systemdsystemunitdir='$${dc_install_base}/lib/systemd/system'

# Its test, tests/check-systemd.sh, is listed in tests/local.mk.

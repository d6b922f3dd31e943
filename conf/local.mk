# The example configuration, installed as documentation of the format.
exampledir = $(docdir)/examples
dist_example_DATA = conf/shadowdiff.conf

# -*- Python -*-
# GoogleTest binaries of the build tree: every executable under
# build/test/unittests whose name ends in "Tests" (e.g. runtime/RuntimeTests)
# is run by lit, one lit test per gtest case.

import lit.formats

if not hasattr(config, "unittests_dir"):
    lit_config.fatal("run lit on the build tree (build/test), whose "
                     "unittests/lit.site.cfg.py CMake writes")

config.name = "layerc-unittests"
config.test_format = lit.formats.GoogleTest(".", "Tests")
config.test_source_root = config.unittests_dir
config.test_exec_root = config.unittests_dir

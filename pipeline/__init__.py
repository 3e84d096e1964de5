"""The safety assessment pipeline (安全生产考评分析流水线)."""

import os
import sys

# Arrow's jemalloc reads its settings once, as pyarrow loads: they are set here, before any module
# of the package imports pyarrow (pipeline.frames.arrow_allocator; a value the user set wins, and
# a process that loaded pyarrow before the package keeps Arrow's own). Linux only: Arrow's Linux
# build already purges unused dirty pages after a second on a background thread, and this adds
# that purged pages are never left "muzzy"; elsewhere Arrow's own settings stay.
if sys.platform.startswith("linux"):
    os.environ.setdefault("JE_ARROW_MALLOC_CONF", "dirty_decay_ms:1000,muzzy_decay_ms:0")

"""The safety assessment pipeline (安全生产考评分析流水线)."""

import os

# Arrow's jemalloc reads its settings once, as pyarrow loads: they are set here, before any module
# of the package imports pyarrow (pipeline.frames.arrow_allocator; a value the user set wins).
os.environ.setdefault("JE_ARROW_MALLOC_CONF", "dirty_decay_ms:1000,muzzy_decay_ms:0")

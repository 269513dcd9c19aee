// Header-only (see include/MemoryHints.h); this file gives the target a source.

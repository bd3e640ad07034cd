#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <zlib.h>

/// inflateInit is a macro over inflateInit_ (it passes the version and struct size).
static inline int CZlib_inflateInit(z_streamp stream) { return inflateInit(stream); }

/// deflateInit is a macro over deflateInit_.
static inline int CZlib_deflateInit(z_streamp stream, int level) { return deflateInit(stream, level); }

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <turbojpeg.h>

/// TJSCALED is a macro: the size a dimension decodes to at a scaling factor (rounded up).
static inline int CTurboJPEG_scaled(int dimension, tjscalingfactor factor) { return TJSCALED(dimension, factor); }

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast macro ((sqlite3_destructor_type)-1) that Swift cannot import.
static inline sqlite3_destructor_type CSQLite3_TRANSIENT(void) { return SQLITE_TRANSIENT; }

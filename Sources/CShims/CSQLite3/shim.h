/* No _GNU_SOURCE here: it changes glibc's fd_set, which must match SwiftGlibc's in every module
   that imports this one alongside Foundation. */
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast macro ((sqlite3_destructor_type)-1) that Swift cannot import.
static inline sqlite3_destructor_type CSQLite3_TRANSIENT(void) { return SQLITE_TRANSIENT; }

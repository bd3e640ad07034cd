/* No _GNU_SOURCE here: it changes glibc's fd_set, which must match SwiftGlibc's in every module
   that imports this one alongside Foundation. */
#include <libpq-fe.h>

/* No _GNU_SOURCE here: see COpenSSL/shim.h. */
#include <sodium.h>

/* No _GNU_SOURCE here: it changes glibc's fd_set, which must match SwiftGlibc's in every module
   that imports this one alongside Foundation. */
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/x509v3.h>

/// SNI is set through a function-like macro (SSL_ctrl) that Swift cannot import.
static inline long COpenSSL_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}

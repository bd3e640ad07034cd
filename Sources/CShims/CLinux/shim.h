#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>
#include <errno.h>
#include <time.h>
#include <pthread.h>
#include <string.h>

/// `errno` is a macro over a thread-local; Swift sees it through Glibc, but keeping one
/// accessor here means Reactor/System reads it the same way everywhere.
static inline int CLinux_errno(void) { return errno; }

/// SIG_IGN is a cast macro ((__sighandler_t) 1) that Swift cannot import.
static inline __sighandler_t CLinux_SIG_IGN(void) { return SIG_IGN; }

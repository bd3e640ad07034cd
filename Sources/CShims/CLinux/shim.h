/* No _GNU_SOURCE here, unlike the other shims' rule: with it glibc's fd_set gets a member
   (`fds_bits`) that SwiftGlibc's, CDispatch's and the other shims' fd_set lack, and clang
   rejects the mismatch whenever two of these modules meet in one compile, which a clean build of
   Reactor hits. The one GNU function we use is declared below instead. */
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
#include <sys/syscall.h>

/// accept4 is declared by glibc only under _GNU_SOURCE; this is its prototype (sys/socket.h).
extern int accept4(int fd, struct sockaddr *addr, socklen_t *addr_len, int flags);

/// `errno` is a macro over a thread-local; Swift sees it through Glibc, but keeping one
/// accessor here means Reactor/System reads it the same way everywhere.
static inline int CLinux_errno(void) { return errno; }

/// SIG_IGN is a cast macro ((__sighandler_t) 1) that Swift cannot import.
static inline __sighandler_t CLinux_SIG_IGN(void) { return SIG_IGN; }

/// syscall(2) is variadic, which Swift cannot import, and io_uring_setup has no glibc wrapper.
/// The io_uring probe uses this rather than liburing, whose header defines _GNU_SOURCE itself.
static inline int CLinux_io_uring_setup(unsigned entries, void *params) {
    return (int)syscall(SYS_io_uring_setup, entries, params);
}


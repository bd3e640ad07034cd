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
#include <sys/file.h>
#include <sys/syscall.h>
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

/// pidfd_open(2) has no glibc wrapper before 2.36's headers are common, and `syscall` is
/// variadic, which Swift cannot call.
static inline int CLinux_pidfd_open(pid_t pid, unsigned int flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }

/// WIFEXITED/WEXITSTATUS/WIFSIGNALED/WTERMSIG are function-like macros.
static inline int CLinux_WIFEXITED(int status) { return WIFEXITED(status); }
static inline int CLinux_WEXITSTATUS(int status) { return WEXITSTATUS(status); }
static inline int CLinux_WIFSIGNALED(int status) { return WIFSIGNALED(status); }
static inline int CLinux_WTERMSIG(int status) { return WTERMSIG(status); }

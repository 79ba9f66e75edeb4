#ifndef C_FLOTILLA_SYSTEM_H
#define C_FLOTILLA_SYSTEM_H

/// Creates a pipe whose both ends are close-on-exec, atomically (no window for a concurrent spawn to inherit them).
int flotilla_pipe_cloexec(int fds[2]);

/// mkstemp with the descriptor opened close-on-exec.
int flotilla_mkstemp_cloexec(char *path_template);

/// pidfd_open(2): a descriptor that becomes readable when the process exits; -1 with errno set on failure.
int flotilla_pidfd_open(int pid);

#include <sys/types.h>

/// Starts `path` with `argv` and `envp` in a new session (so it outlives this process and its terminal), in
/// `directory`, with stdin from /dev/null, stdout and stderr appended to `log_path` and no other descriptor of this
/// process (closed from 3 up, where glibc can: 2.34 and later). Returns 0 and sets `pid`,
/// or an errno value.
int flotilla_spawn_detached(
    const char *path, char *const argv[], char *const envp[], const char *directory, const char *log_path, pid_t *pid);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphans of this process's descendants become its children, not init's.
/// 0 on success, -1 with errno set (ENOSYS where there is no such thing).
int flotilla_become_subreaper(void);

/// prctl(PR_SET_PDEATHSIG, signal): this process gets `signal` when its parent ends. 0 on success.
int flotilla_die_with_parent(int signal);

/// A TCP socket listening on 127.0.0.1:`port` inside the network namespace of process `pid` (a sandbox's), made by a
/// forked child that enters the process's user namespace (when it has its own) and network namespace, then hands the
/// socket back. Returns the descriptor (close-on-exec), or -1 with errno set.
int flotilla_listen_in_namespace(int pid, int port);

/// accept(2) with the new descriptor close-on-exec, atomically where the system can.
int flotilla_accept_cloexec(int listener);

/// waitid(P_PID, pid, WEXITED | WNOHANG): reaps `pid` if it has ended; 1 if reaped, 0 if not, -1 on error.
int flotilla_reap(int pid);

#endif

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
/// `directory`, with stdin from /dev/null and stdout and stderr appended to `log_path`. Returns 0 and sets `pid`,
/// or an errno value.
int flotilla_spawn_detached(
    const char *path, char *const argv[], char *const envp[], const char *directory, const char *log_path, pid_t *pid);

#endif

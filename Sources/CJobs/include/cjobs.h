#ifndef CJOBS_H
#define CJOBS_H

#include <spawn.h>
#include <sys/types.h>

/// struct ucred (declared only under _GNU_SOURCE): what getsockopt(SO_PEERCRED) returns.
typedef struct {
    pid_t pid;
    uid_t uid;
    gid_t gid;
} cjobs_ucred;

/// Makes the calling process a child subreaper (prctl is variadic, which Swift cannot call).
int cjobs_set_child_subreaper(void);

/// Counts SIGCHLD from now on (a handler that posts a semaphore: async-signal-safe), so a
/// thread with no child to wait for sleeps in ``cjobs_wait_for_sigchld`` until one ends instead
/// of polling. Returns sigaction's status.
int cjobs_count_sigchld(void);

/// Sleeps until a SIGCHLD arrives (or one arrived since the last call).
void cjobs_wait_for_sigchld(void);

/// posix_spawn_file_actions_addchdir_np (glibc ≥ 2.29; declared only under _GNU_SOURCE).
int cjobs_spawn_addchdir(posix_spawn_file_actions_t *actions, const char *path);

/// posix_spawn_file_actions_addclosefrom_np (glibc ≥ 2.34): the child closes every descriptor
/// from `from` on, whether or not the parent marked it close-on-exec.
int cjobs_spawn_addclosefrom(posix_spawn_file_actions_t *actions, int from);

/// statfs(2)'s f_type for `path` (NFS is 0x6969), or -1 (sys/vfs.h is not in Glibc's module).
long cjobs_filesystem_type(const char *path);

/// Opens (creating, or truncating) the regular file at absolute `path` with the file-system
/// identity of `uid`:`gid` and `groups` on the calling thread only, so the kernel checks every
/// step as that user would be checked: each directory is walked from / with O_NOFOLLOW (a
/// symbolic link anywhere fails), missing directories are made by that user (0700), and the
/// file is opened with O_NOFOLLOW. The thread's identity is restored before returning.
/// Returns the descriptor, or -1 with errno.
int cjobs_open_as_user(const char *path, uid_t uid, gid_t gid, const gid_t *groups, int ngroups, mode_t mode);

/// Whether `uid`:`gid` with `groups` may open the file at absolute `path` with `access_mode`
/// (O_RDONLY, O_WRONLY or O_RDWR), checked by the kernel on the calling thread with that
/// file-system identity (restored before returning); nothing is created or changed. 0 when it
/// may, else -1 with errno.
int cjobs_may_open_as_user(const char *path, uid_t uid, gid_t gid, const gid_t *groups, int ngroups, int access_mode);

#endif
